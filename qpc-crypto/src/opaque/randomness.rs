//! The randomness each OPAQUE step consumes, drawn up front so that a step
//! is a pure function of its inputs (test vectors fix these values), and
//! the bridge that hands it to opaque-ke in the order opaque-ke draws it.

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;

/// The ristretto255 group order `l`, little-endian.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// True if `scalar` (little-endian) is in `1..l`.
pub fn is_nonzero_canonical_scalar(scalar: &[u8; 32]) -> bool {
    let below_order = scalar
        .iter()
        .rev()
        .zip(GROUP_ORDER.iter().rev())
        .find(|(a, b)| a != b)
        .is_some_and(|(a, b)| a < b);
    below_order && scalar.iter().any(|&b| b != 0)
}

/// Draws a uniform scalar in `1..l` by rejection: 32 bytes with the top
/// three bits cleared, kept if canonical and non-zero (about half are).
pub fn random_scalar(rng: &mut impl CryptoRng) -> Zeroizing<[u8; 32]> {
    let mut scalar = Zeroizing::new([0u8; 32]);
    loop {
        rng.fill_bytes(scalar.as_mut());
        scalar[31] &= 0x1f;
        if is_nonzero_canonical_scalar(&scalar) {
            return scalar;
        }
    }
}

/// Checks a caller-supplied scalar.
pub(crate) fn check_scalar(what: &'static str, scalar: &[u8; 32]) -> Result<(), Error> {
    if is_nonzero_canonical_scalar(scalar) {
        Ok(())
    } else {
        Err(Error::InvalidConfig(what))
    }
}

/// A client's registration randomness.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RegistrationRandomness {
    /// The OPRF blind, a scalar in `1..l`, little-endian.
    pub blind: [u8; 32],
    /// The envelope nonce.
    pub envelope_nonce: [u8; 32],
}

impl RegistrationRandomness {
    /// Draws fresh randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut r = RegistrationRandomness {
            blind: *random_scalar(rng),
            envelope_nonce: [0; 32],
        };
        rng.fill_bytes(&mut r.envelope_nonce);
        r
    }
}

/// A client's login randomness.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ClientLoginRandomness {
    /// The OPRF blind, a scalar in `1..l`, little-endian.
    pub blind: [u8; 32],
    /// Seed of the client's ephemeral key pair (`DeriveDiffieHellmanKeyPair`).
    pub keyshare_seed: [u8; 32],
    /// The client nonce.
    pub nonce: [u8; 32],
}

impl ClientLoginRandomness {
    /// Draws fresh randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut r = ClientLoginRandomness {
            blind: *random_scalar(rng),
            keyshare_seed: [0; 32],
            nonce: [0; 32],
        };
        rng.fill_bytes(&mut r.keyshare_seed);
        rng.fill_bytes(&mut r.nonce);
        r
    }
}

/// A server's randomness for one login.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ServerLoginRandomness {
    /// The masking key of the fake record, drawn for every login so that
    /// known and unknown users cost the same; used only for unknown users.
    pub fake_masking_key: [u8; 64],
    /// The masking nonce.
    pub masking_nonce: [u8; 32],
    /// Seed of the server's ephemeral key pair.
    pub keyshare_seed: [u8; 32],
    /// The server nonce.
    pub nonce: [u8; 32],
}

impl ServerLoginRandomness {
    /// Draws fresh randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut r = ServerLoginRandomness {
            fake_masking_key: [0; 64],
            masking_nonce: [0; 32],
            keyshare_seed: [0; 32],
            nonce: [0; 32],
        };
        rng.fill_bytes(&mut r.fake_masking_key);
        rng.fill_bytes(&mut r.masking_nonce);
        rng.fill_bytes(&mut r.keyshare_seed);
        rng.fill_bytes(&mut r.nonce);
        r
    }
}

/// Replays fixed bytes to opaque-ke as a rand_core 0.6 generator, in the
/// order it draws them. A blind is handed over as its 32 bytes followed by
/// 32 zero bytes: opaque-ke reduces 64 bytes modulo `l`, which leaves a
/// canonical scalar unchanged. Drawing past the script yields zeros and is
/// reported by [`Replay::finish`].
pub(crate) struct Replay {
    script: Zeroizing<Vec<u8>>,
    position: usize,
    overrun: bool,
}

impl Replay {
    pub(crate) fn new() -> Self {
        Replay {
            script: Zeroizing::new(Vec::new()),
            position: 0,
            overrun: false,
        }
    }

    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Self {
        self.script.extend_from_slice(bytes);
        self
    }

    pub(crate) fn blind(self, blind: &[u8; 32]) -> Self {
        self.bytes(blind).bytes(&[0; 32])
    }

    /// `Ok` if opaque-ke drew exactly the scripted bytes.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.overrun || self.position != self.script.len() {
            return Err(Error::InvalidConfig("opaque-ke drew unexpected randomness"));
        }
        Ok(())
    }
}

impl rand_core_06::RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let available = self.script.len() - self.position;
        let n = dest.len().min(available);
        dest[..n].copy_from_slice(&self.script[self.position..self.position + n]);
        dest[n..].fill(0);
        self.position += n;
        if n < dest.len() {
            self.overrun = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core_06::CryptoRng for Replay {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_range() {
        assert!(!is_nonzero_canonical_scalar(&[0; 32]));
        assert!(!is_nonzero_canonical_scalar(&GROUP_ORDER));
        let mut below = GROUP_ORDER;
        below[0] -= 1;
        assert!(is_nonzero_canonical_scalar(&below));
        let mut one = [0; 32];
        one[0] = 1;
        assert!(is_nonzero_canonical_scalar(&one));
        assert!(!is_nonzero_canonical_scalar(&[0xff; 32]));
    }

    #[test]
    fn replay_reports_overrun_and_leftovers() {
        use rand_core_06::RngCore;
        let mut r = Replay::new().bytes(&[1, 2, 3]);
        let mut out = [9; 2];
        r.fill_bytes(&mut out);
        assert_eq!(out, [1, 2]);
        assert!(r.finish().is_err());
        let mut out = [9; 2];
        r.fill_bytes(&mut out);
        assert_eq!(out, [3, 0]);
        assert!(r.finish().is_err());
    }
}
