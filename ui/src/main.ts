// Entry point of the production page (index.html).

import { mountApp } from "./app";

mountApp(document.getElementById("app")!);
