//! Length hiding (`spec/04-padding.md`): Padmé for general messages and
//! fixed buckets for constrained links, both with one unambiguous encoding.
//!
//! Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019) rounds a length `L` so that only
//! its top `floor(log2 E) + 1` bits remain, where `E = floor(log2 L)`: it
//! leaks O(log log L) bits and adds at most 11.63% (at L = 129; the test
//! checks every length up to 64 KiB against a 12% bar).
//!
//! Encoding (ISO/IEC 7816-4 style): `padded = content || 0x80 || 0x00*`, of
//! length exactly `target(len(content) + 1)`. Decoding strips the zeros,
//! requires the `0x80` marker, and requires the total length to be exactly
//! the target for the recovered content length, so every content has one
//! padded form and everything else is rejected.
//!
//! ```
//! use qpc_crypto::padding::{pad, unpad, Padding};
//!
//! let padded = pad(Padding::Padme, b"hello, world").unwrap();
//! assert_eq!(padded.len(), 14); // Padmé(13) = 14
//! assert_eq!(unpad(Padding::Padme, &padded).unwrap(), b"hello, world");
//! ```

use crate::Error;

/// The marker byte that ends the content.
pub const MARKER: u8 = 0x80;

/// Buckets for LoRa-class links: every frame is one of these sizes. The
/// largest, 222, is the EU868 payload limit at SF7/SF8.
pub const LORA_BUCKETS: &[usize] = &[24, 32, 48, 64, 96, 128, 160, 222];

/// A padding scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Padmé rounding, for any length.
    Padme,
    /// The smallest of these ascending sizes that fits; longer input is an
    /// error.
    Buckets(&'static [usize]),
}

/// Padmé: `len` rounded up so that only its top bits vary. Total: for the
/// (unallocatable) lengths within 2^57 of `usize::MAX` whose rounding would
/// overflow it returns `usize::MAX`; [`Padding::target`] reports those as
/// [`Error::TooLongToPad`].
pub const fn padme(len: usize) -> usize {
    match checked_padme(len) {
        Some(padded) => padded,
        None => usize::MAX,
    }
}

const fn checked_padme(len: usize) -> Option<usize> {
    if len < 2 {
        return Some(len);
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - 1 - e.leading_zeros() + 1; // floor(log2 e) + 1
    let mask = (1usize << (e - s)) - 1;
    match len.checked_add(mask) {
        Some(up) => Some(up & !mask),
        None => None,
    }
}

impl Padding {
    /// The padded size for an unpadded length `len` (content plus marker).
    pub fn target(self, len: usize) -> Result<usize, Error> {
        match self {
            Padding::Padme => checked_padme(len).ok_or(Error::TooLongToPad {
                len,
                max: usize::MAX,
            }),
            Padding::Buckets(sizes) => {
                sizes
                    .iter()
                    .copied()
                    .find(|&size| size >= len)
                    .ok_or(Error::TooLongToPad {
                        len,
                        max: sizes.last().copied().unwrap_or(0),
                    })
            }
        }
    }
}

/// Pads `content` under `scheme`.
pub fn pad(scheme: Padding, content: &[u8]) -> Result<Vec<u8>, Error> {
    let target = scheme.target(content.len() + 1)?;
    let mut out = Vec::with_capacity(target);
    out.extend_from_slice(content);
    out.push(MARKER);
    out.resize(target, 0);
    Ok(out)
}

/// Removes padding, rejecting anything [`pad`] would not have produced.
pub fn unpad(scheme: Padding, padded: &[u8]) -> Result<&[u8], Error> {
    let bad = |reason| Error::BadPadding(reason);
    let marker_at = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(bad("no marker"))?;
    if padded[marker_at] != MARKER {
        return Err(bad("last non-zero byte is not 0x80"));
    }
    match scheme.target(marker_at + 1) {
        Ok(target) if target == padded.len() => Ok(&padded[..marker_at]),
        _ => Err(bad("length is not the padded length of the content")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn padme_matches_the_paper_examples() {
        // Table from the PURBs paper's definition: small values are exact.
        for len in 0..=8 {
            assert_eq!(padme(len), len);
        }
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1025), 1088);
        assert_eq!(padme(65535), 65536);
    }

    #[test]
    fn overhead_at_most_12_percent_up_to_64_kib() {
        let mut worst = (0.0f64, 0);
        for len in 1..=65536usize {
            let padded = padme(len);
            assert!(padded >= len);
            let overhead = (padded - len) as f64 / len as f64;
            assert!(overhead <= 0.12, "Padmé({len}) = {padded}: {overhead}");
            if overhead > worst.0 {
                worst = (overhead, len);
            }
        }
        // The worst case is Padmé(129) = 144: 15/129 = 11.63%.
        assert_eq!(worst.1, 129, "worst {worst:?}");
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        for len in [usize::MAX, usize::MAX - (1 << 56), (usize::MAX >> 7) << 7] {
            assert!(padme(len) >= len);
            assert!(
                matches!(Padding::Padme.target(len), Ok(t) if t >= len)
                    || Padding::Padme.target(len).is_err()
            );
        }
        assert_eq!(
            Padding::Padme.target(usize::MAX).unwrap_err().class(),
            "too_long_to_pad"
        );
        assert_eq!(padme(1 << 62), 1 << 62);
    }

    #[test]
    fn padme_is_idempotent_and_monotone() {
        let mut last = 0;
        for len in 0..=70_000usize {
            let p = padme(len);
            assert_eq!(padme(p), p);
            assert!(p >= last);
            last = p;
        }
    }

    #[test]
    fn malformed_padding_is_rejected() {
        let cases: &[(&[u8], &str)] = &[
            (&[], "no marker"),
            (&[0, 0], "no marker"),
            (&[1, 0x81], "last non-zero byte is not 0x80"),
            (
                &[1, 2, MARKER, 0],
                "length is not the padded length of the content",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(
                unpad(Padding::Padme, bytes),
                Err(Error::BadPadding(reason)),
                "{bytes:02x?}"
            );
        }
        let buckets = Padding::Buckets(LORA_BUCKETS);
        assert_eq!(
            pad(buckets, &[0; 222]).unwrap_err(),
            Error::TooLongToPad { len: 223, max: 222 }
        );
        assert_eq!(pad(buckets, &[7; 23]).unwrap().len(), 24);
        assert_eq!(pad(buckets, &[7; 24]).unwrap().len(), 32);
    }

    proptest! {
        #[test]
        fn round_trip(content in proptest::collection::vec(any::<u8>(), 0..5000), lora: bool) {
            let scheme = if lora && content.len() < 222 { Padding::Buckets(LORA_BUCKETS) } else { Padding::Padme };
            let padded = pad(scheme, &content).unwrap();
            prop_assert_eq!(padded.len(), scheme.target(content.len() + 1).unwrap());
            prop_assert_eq!(unpad(scheme, &padded).unwrap(), &content[..]);
        }

        #[test]
        fn unpad_accepts_only_canonical_input(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(content) = unpad(Padding::Padme, &bytes) {
                prop_assert_eq!(pad(Padding::Padme, content).unwrap(), bytes.clone());
            }
            if let Ok(content) = unpad(Padding::Buckets(LORA_BUCKETS), &bytes) {
                prop_assert_eq!(pad(Padding::Buckets(LORA_BUCKETS), content).unwrap(), bytes);
            }
        }
    }
}
