//! PDF: a whole file ends with `startxref`, the offset of its cross-reference data, and
//! `%%EOF`. A file cut short lacks them; its objects could only be found again by scanning
//! the file (which is what "rebuilding the cross-reference table" means), with no way to
//! know what was lost. A cross-reference table that had to be rebuilt for another reason is
//! told by the PDF module, which loads the document.

use super::Damage;

/// How far from the end the `%%EOF` may stand (some writers append a little after it).
const TAIL: usize = 1024;

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    if !has(b"%%EOF") || !has(b"startxref") {
        return Some(Damage::salvageable(
            "the PDF ends early: its end (startxref and %%EOF) is missing, so pages or images may be lost",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_without_its_end_is_damaged() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\nxref\n0 1\ntrailer\n<<>>\nstartxref\n30\n%%EOF\n";
        assert_eq!(check(pdf), None);
        assert!(check(&pdf[..pdf.len() - 4]).is_some());
        assert!(check(&pdf[..pdf.len() / 2]).is_some());
    }
}
