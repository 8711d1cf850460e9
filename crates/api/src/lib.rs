//! The Compressor API 1.0 (`../shared/seeds/api-introduction.txt`): its wire types and the
//! server behind `compressor serve`. The server is a thin layer over the engine, the
//! storage connectors and the pipeline's settings; it holds no compression logic.

pub mod client;
pub mod fetch;
mod incoming;
mod jobs;
pub mod openapi;
pub mod rate;
mod results;
mod routes;
pub mod server;
pub mod webhook;
pub mod wire;

pub use server::{router, serve, ServerConfig};
pub use wire::{ApiError, ApiResult};
