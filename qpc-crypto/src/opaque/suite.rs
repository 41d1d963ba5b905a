//! OPAQUE suites and the per-deployment configuration (`spec/08-opaque.md`
//! §2).

use argon2::{Algorithm, Argon2, Params, Version};
use opaque_ke::ksf::Identity;
use opaque_ke::{CipherSuite, Ristretto255, TripleDh};
use sha2_010::Sha512;

use crate::Error;

/// An OPAQUE suite qpc runs: always the ristretto255-SHA512 OPRF and
/// `TripleDh<Ristretto255, SHA-512>`; suites differ only in the key
/// stretching function (KSF).
pub trait Suite:
    CipherSuite<OprfCs = Ristretto255, KeyExchange = TripleDh<Ristretto255, Sha512>> + 'static
{
    /// The suite id carried in stored records and server key sets.
    const ID: u8;
    /// The suite's name in the spec.
    const NAME: &'static str;
}

/// qpc's production suite `0x01`: ristretto255, 3DH with SHA-512, and
/// Argon2id key stretching.
#[derive(Debug, Clone, Copy)]
pub struct Argon2idSuite;

impl CipherSuite for Argon2idSuite {
    type OprfCs = Ristretto255;
    type KeyExchange = TripleDh<Ristretto255, Sha512>;
    type Ksf = Argon2<'static>;
}

impl Suite for Argon2idSuite {
    const ID: u8 = 0x01;
    const NAME: &'static str = "qpc-opaque-ristretto255-3dh-sha512-argon2id";
}

/// Suite `0xff`: the same groups with the Identity KSF, as in the RFC 9807
/// test vectors. **Only for test vectors and benchmarks**: without key
/// stretching an offline attacker who steals a record tests passwords at
/// hash speed. A production server never accepts its records (the suite id
/// differs).
#[derive(Debug, Clone, Copy)]
pub struct IdentityKsfSuite;

impl CipherSuite for IdentityKsfSuite {
    type OprfCs = Ristretto255;
    type KeyExchange = TripleDh<Ristretto255, Sha512>;
    type Ksf = Identity;
}

impl Suite for IdentityKsfSuite {
    const ID: u8 = 0xff;
    const NAME: &'static str = "test-only-ristretto255-3dh-sha512-identity";
}

/// Argon2id cost parameters (RFC 9106; version 0x13, no secret, no
/// associated data, 64-byte tag, 16 zero bytes of salt as opaque-ke uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2idParams {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Argon2idParams {
    /// The production parameters: m = 19456 KiB, t = 2, p = 1 (the OWASP
    /// password storage minimum, also argon2's default).
    pub const PRODUCTION: Self = Argon2idParams {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// The largest memory cost a client accepts (1 GiB).
    pub const MAX_MEMORY_KIB: u32 = 1 << 20;

    /// The Argon2id instance, or [`Error::InvalidConfig`] if the parameters
    /// are out of range (argon2's limits, and at most
    /// [`Self::MAX_MEMORY_KIB`]).
    pub fn argon2(&self) -> Result<Argon2<'static>, Error> {
        if self.memory_kib > Self::MAX_MEMORY_KIB {
            return Err(Error::InvalidConfig("Argon2id memory above 1 GiB"));
        }
        let params = Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(super::HASH_LEN),
        )
        .map_err(|_| Error::InvalidConfig("Argon2id parameters out of range"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The longest context, identity, credential identifier or password
/// accepted (bytes).
pub const MAX_INPUT_LEN: usize = 1024;

/// What both sides bind into the key exchange: the context string and the
/// optional explicit identities (absent means "the public key", RFC 9807
/// §4.1.2). qpc v1 uses [`Binding::default`]: context `"qpc/opaque/v1"`,
/// no explicit identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The context string (RFC 9807 §6.1 `context`).
    pub context: Vec<u8>,
    /// The client's identity; `None` means its public key.
    pub client_identity: Option<Vec<u8>>,
    /// The server's identity; `None` means its public key.
    pub server_identity: Option<Vec<u8>>,
}

impl Default for Binding {
    fn default() -> Self {
        Binding {
            context: super::CONTEXT.to_vec(),
            client_identity: None,
            server_identity: None,
        }
    }
}

impl Binding {
    /// Checks every field against [`MAX_INPUT_LEN`].
    pub(crate) fn check(&self) -> Result<(), Error> {
        let fields = [
            Some(&self.context),
            self.client_identity.as_ref(),
            self.server_identity.as_ref(),
        ];
        for field in fields.into_iter().flatten() {
            check_len(field, MAX_INPUT_LEN)?;
        }
        Ok(())
    }

    pub(crate) fn identifiers(&self) -> opaque_ke::Identifiers<'_> {
        opaque_ke::Identifiers {
            client: self.client_identity.as_deref(),
            server: self.server_identity.as_deref(),
        }
    }
}

/// A client's configuration: the KSF instance and the binding.
pub struct ClientConfig<S: Suite> {
    /// The key stretching function, with its parameters.
    pub ksf: S::Ksf,
    /// Context and identities.
    pub binding: Binding,
}

impl<S: Suite> core::fmt::Debug for ClientConfig<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("suite", &S::NAME)
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

impl ClientConfig<Argon2idSuite> {
    /// qpc's production client: Argon2id with [`Argon2idParams::PRODUCTION`]
    /// and the default binding.
    pub fn production() -> Self {
        Self::argon2id(Argon2idParams::PRODUCTION).expect("production parameters are valid")
    }

    /// Argon2id with other parameters (test vectors use small ones).
    pub fn argon2id(params: Argon2idParams) -> Result<Self, Error> {
        Ok(ClientConfig {
            ksf: params.argon2()?,
            binding: Binding::default(),
        })
    }
}

impl ClientConfig<IdentityKsfSuite> {
    /// The test-only Identity KSF with `binding`.
    pub fn identity_ksf(binding: Binding) -> Self {
        ClientConfig {
            ksf: Identity,
            binding,
        }
    }
}

/// [`Error::ContentTooLong`] if `bytes` is longer than `max`.
pub(crate) fn check_len(bytes: &[u8], max: usize) -> Result<(), Error> {
    if bytes.len() > max {
        return Err(Error::ContentTooLong {
            len: bytes.len(),
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_parameters_are_bounded() {
        assert!(Argon2idParams::PRODUCTION.argon2().is_ok());
        let class = |p: Argon2idParams| p.argon2().unwrap_err().class();
        let p = Argon2idParams::PRODUCTION;
        assert_eq!(
            class(Argon2idParams {
                memory_kib: Argon2idParams::MAX_MEMORY_KIB + 1,
                ..p
            }),
            "invalid_config"
        );
        assert_eq!(
            class(Argon2idParams { iterations: 0, ..p }),
            "invalid_config"
        );
        assert_eq!(
            class(Argon2idParams {
                parallelism: 0,
                ..p
            }),
            "invalid_config"
        );
        assert_eq!(
            class(Argon2idParams { memory_kib: 1, ..p }),
            "invalid_config"
        );
    }

    #[test]
    fn binding_is_bounded() {
        let mut b = Binding::default();
        assert_eq!(b.context, b"qpc/opaque/v1");
        assert!(b.check().is_ok());
        b.server_identity = Some(vec![0; MAX_INPUT_LEN + 1]);
        assert_eq!(b.check().unwrap_err().class(), "content_too_long");
    }
}
