//! The Hello message (frame type 0x0001).
//!
//! ```text
//! struct {
//!     uint8  versions<V>;      // 1..=32 versions, strictly descending, no 0
//!     uint32 max_body_len;     // largest frame body the sender accepts, 256..=2^30-1
//!     uint16 capabilities<V>;  // 0..=64 code points, strictly ascending
//! } Hello;
//! ```
//!
//! The layout is frozen: every future protocol version sends exactly this
//! Hello, in a frame whose header version is 1, so that peers of any version
//! can read each other's offers.

use alloc::vec::Vec;
use bytes::BufMut;

use crate::codec::{self, Decode, Encode, Reader};
use crate::{varint, Error, Result, VersionSet};

/// The most versions a Hello may list.
pub const MAX_VERSIONS: usize = 32;
/// The most capabilities a Hello may list.
pub const MAX_CAPABILITIES: usize = 64;
/// The smallest `max_body_len` a peer may announce: above the largest valid
/// Hello body (167 bytes), so every peer can receive every valid Hello.
pub const MIN_BODY_LIMIT: u32 = 256;

/// The largest valid Hello body: 32 versions and 64 capabilities.
pub const MAX_HELLO_LEN: usize = (1 + MAX_VERSIONS) + 4 + (2 + 2 * MAX_CAPABILITIES);

/// A peer's offer: versions, frame size limit and capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Supported protocol versions, highest first.
    pub versions: Vec<u8>,
    /// The largest frame body the sender is willing to receive.
    pub max_body_len: u32,
    /// Supported capability code points, ascending.
    pub capabilities: Vec<u16>,
}

impl Hello {
    /// A Hello offering `versions`, with the canonical orderings applied.
    pub fn new(versions: VersionSet, max_body_len: u32, mut capabilities: Vec<u16>) -> Self {
        capabilities.sort_unstable();
        capabilities.dedup();
        Hello {
            versions: versions.descending(),
            max_body_len,
            capabilities,
        }
    }

    /// Checks the rules of the layout above.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason| {
            Err(Error::Malformed {
                message: "Hello",
                reason,
            })
        };
        if self.versions.is_empty() {
            return bad("no versions");
        }
        if self.versions.len() > MAX_VERSIONS {
            return Err(Error::TooManyItems { max: MAX_VERSIONS });
        }
        if self.versions.contains(&0) {
            return bad("version 0 is reserved");
        }
        if self.versions.windows(2).any(|w| w[0] <= w[1]) {
            return bad("versions not strictly descending");
        }
        if !(MIN_BODY_LIMIT..=varint::MAX).contains(&self.max_body_len) {
            return bad("max_body_len outside 256..=2^30-1");
        }
        if self.capabilities.len() > MAX_CAPABILITIES {
            return Err(Error::TooManyItems {
                max: MAX_CAPABILITIES,
            });
        }
        if self.capabilities.windows(2).any(|w| w[0] >= w[1]) {
            return bad("capabilities not strictly ascending");
        }
        Ok(())
    }

    /// The offered versions as a set.
    pub fn version_set(&self) -> VersionSet {
        self.versions.iter().copied().collect()
    }
}

impl Encode for Hello {
    fn encoded_len(&self) -> usize {
        codec::vl_vec_encoded_len(&self.versions)
            + 4
            + codec::vl_vec_encoded_len(&self.capabilities)
    }

    fn encode(&self, out: &mut impl BufMut) -> Result<()> {
        self.validate()?;
        codec::put_vl_vec(out, &self.versions)?;
        self.max_body_len.encode(out)?;
        codec::put_vl_vec(out, &self.capabilities)
    }
}

impl Decode for Hello {
    fn decode(r: &mut Reader) -> Result<Self> {
        let hello = Hello {
            versions: r.vl_vec(MAX_VERSIONS)?,
            max_body_len: r.u32()?,
            capabilities: r.vl_vec(MAX_CAPABILITIES)?,
        };
        hello.validate()?;
        Ok(hello)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        // The example of spec/01-wire.md: versions [1], 1 MiB, capability 0xff01.
        let hello = Hello::new(VersionSet::only(1), 1 << 20, alloc::vec![0xff01]);
        let bytes = codec::encode_to_vec(&hello).unwrap();
        assert_eq!(
            bytes,
            [0x01, 0x01, 0x00, 0x10, 0x00, 0x00, 0x02, 0xff, 0x01]
        );
        assert_eq!(codec::decode_exact::<Hello>(bytes.into()).unwrap(), hello);
    }

    #[test]
    fn rules_enforced_on_decode() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x00, 0, 0, 1, 0, 0x00], "no versions"),
            (
                &[0x02, 1, 2, 0, 0, 1, 0, 0x00],
                "versions not strictly descending",
            ),
            (
                &[0x02, 1, 1, 0, 0, 1, 0, 0x00],
                "versions not strictly descending",
            ),
            (&[0x01, 0, 0, 0, 1, 0, 0x00], "version 0 is reserved"),
            (
                &[0x01, 1, 0, 0, 0, 0xff, 0x00],
                "max_body_len outside 256..=2^30-1",
            ),
            (
                &[0x01, 1, 0, 0, 1, 0, 0x04, 0, 2, 0, 1],
                "capabilities not strictly ascending",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(
                codec::decode_exact::<Hello>(Bytes::from_static(bytes)),
                Err(Error::Malformed {
                    message: "Hello",
                    reason
                }),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn largest_hello_fits_the_smallest_limit() {
        let hello = Hello::new((1..=32).collect(), MIN_BODY_LIMIT, (0..64).collect());
        let len = codec::encode_to_vec(&hello).unwrap().len();
        assert_eq!(len, MAX_HELLO_LEN);
        assert!(len < MIN_BODY_LIMIT as usize);
    }

    fn arb_hello() -> impl Strategy<Value = Hello> {
        (
            proptest::collection::btree_set(1u8.., 1..=MAX_VERSIONS),
            MIN_BODY_LIMIT..=varint::MAX,
            proptest::collection::btree_set(any::<u16>(), 0..=MAX_CAPABILITIES),
        )
            .prop_map(|(v, max, c)| {
                Hello::new(v.into_iter().collect(), max, c.into_iter().collect())
            })
    }

    proptest! {
        #[test]
        fn round_trip(hello in arb_hello()) {
            let bytes = codec::encode_to_vec(&hello).unwrap();
            prop_assert_eq!(bytes.len(), hello.encoded_len());
            prop_assert_eq!(codec::decode_exact::<Hello>(bytes.into()).unwrap(), hello);
        }

        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(hello) = codec::decode_exact::<Hello>(bytes.clone().into()) {
                // Anything accepted is canonical: it re-encodes to the same bytes.
                prop_assert_eq!(codec::encode_to_vec(&hello).unwrap(), bytes);
            }
        }
    }
}
