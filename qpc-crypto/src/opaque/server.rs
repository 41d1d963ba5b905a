//! The server: its long-term keys, registration, and the login state
//! machine (`spec/08-opaque.md` §6.3, §6.4).

use opaque_ke::keypair::PrivateKey;
use opaque_ke::{CredentialFinalization, CredentialRequest, ServerLoginParameters, ServerSetup};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::messages::{
    Ke1, Ke2, Ke3, RegistrationRecord, RegistrationRequest, RegistrationResponse,
};
use super::randomness::{check_scalar, random_scalar, Replay, ServerLoginRandomness};
use super::record::ServerRecord;
use super::suite::{check_len, Binding, Suite, MAX_INPUT_LEN};
use super::{protocol_error, SessionKey};
use crate::Error;

/// The version byte of [`Server::keys_to_bytes`].
pub const KEYS_VERSION: u8 = 1;
/// The length of [`Server::keys_to_bytes`]: version, suite, OPRF seed (64),
/// private key (32), fake-record public key (32).
pub const KEYS_LEN: usize = 2 + 64 + 32 + 32;

/// A server's long-term OPAQUE keys and binding: the OPRF seed, the AKE key
/// pair, and the public key every fake record (unknown user) carries.
pub struct Server<S: Suite> {
    setup: ServerSetup<S>,
    binding: Binding,
}

impl<S: Suite> core::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("suite", &S::NAME)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl<S: Suite> Server<S> {
    /// Fresh keys: the private key and the fake-record private key are
    /// uniform scalars in `1..l`, the OPRF seed 64 random bytes.
    pub fn generate(rng: &mut impl CryptoRng, binding: Binding) -> Result<Self, Error> {
        let private_key = random_scalar(rng);
        let mut oprf_seed = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(oprf_seed.as_mut());
        let fake_private_key = random_scalar(rng);
        Self::from_keys(&private_key, &oprf_seed, &fake_private_key, binding)
    }

    /// Keys from their parts (test vectors): the AKE private key and the
    /// fake-record private key must be scalars in `1..l`
    /// ([`Error::InvalidConfig`]).
    pub fn from_keys(
        private_key: &[u8; 32],
        oprf_seed: &[u8; 64],
        fake_private_key: &[u8; 32],
        binding: Binding,
    ) -> Result<Self, Error> {
        binding.check()?;
        check_scalar("server private key must be a scalar in 1..l", private_key)?;
        check_scalar(
            "fake private key must be a scalar in 1..l",
            fake_private_key,
        )?;
        let fake_public = PrivateKey::<opaque_ke::Ristretto255>::deserialize(fake_private_key)
            .map_err(|_| Error::InvalidConfig("fake private key"))?
            .public_key()
            .serialize();
        let mut setup = Zeroizing::new(Vec::with_capacity(128));
        setup.extend_from_slice(oprf_seed);
        setup.extend_from_slice(private_key);
        setup.extend_from_slice(&fake_public);
        let setup = ServerSetup::<S>::deserialize(&setup)
            .map_err(|_| Error::InvalidConfig("server keys"))?;
        Ok(Server { setup, binding })
    }

    /// The stored form of the keys ([`KEYS_LEN`] bytes; secret).
    pub fn keys_to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(KEYS_LEN));
        out.push(KEYS_VERSION);
        out.push(S::ID);
        out.extend_from_slice(&self.setup.serialize());
        out
    }

    /// Parses [`Server::keys_to_bytes`]: length (`wrong_length`), version
    /// (`unknown_version`), suite (`unknown_suite`), then the keys
    /// (`invalid_config`).
    pub fn keys_from_bytes(bytes: &[u8], binding: Binding) -> Result<Self, Error> {
        binding.check()?;
        if bytes.len() != KEYS_LEN {
            return Err(Error::WrongLength {
                what: "OPAQUE server keys",
                expected: KEYS_LEN,
                got: bytes.len(),
            });
        }
        if bytes[0] != KEYS_VERSION {
            return Err(Error::UnknownVersion {
                what: "OPAQUE server keys",
                version: bytes[0],
            });
        }
        if bytes[1] != S::ID {
            return Err(Error::UnknownSuite {
                what: "OPAQUE server keys",
                suite: bytes[1],
            });
        }
        let setup = ServerSetup::<S>::deserialize(&bytes[2..])
            .map_err(|_| Error::InvalidConfig("server keys"))?;
        Ok(Server { setup, binding })
    }

    /// The server's static public key.
    pub fn public_key(&self) -> [u8; 32] {
        let pk = self.setup.keypair().public().serialize();
        let mut out = [0; 32];
        out.copy_from_slice(&pk);
        out
    }

    /// Answers a registration request for `credential_identifier` (at most
    /// [`MAX_INPUT_LEN`] bytes). Stateless: the server keeps nothing until
    /// the upload arrives.
    pub fn registration_response(
        &self,
        request: &RegistrationRequest,
        credential_identifier: &[u8],
    ) -> Result<RegistrationResponse, Error> {
        check_len(credential_identifier, MAX_INPUT_LEN)?;
        let request = opaque_ke::RegistrationRequest::<S>::deserialize(request.as_bytes())
            .map_err(|e| protocol_error(e, "RegistrationRequest"))?;
        let started =
            opaque_ke::ServerRegistration::<S>::start(&self.setup, request, credential_identifier)
                .map_err(|e| protocol_error(e, "RegistrationRequest"))?;
        RegistrationResponse::from_bytes(&started.message.serialize())
    }

    /// Turns the client's upload into the record to store.
    pub fn registration_finish(
        &self,
        upload: &RegistrationRecord,
    ) -> Result<ServerRecord<S>, Error> {
        ServerRecord::from_upload(upload)
    }

    /// A new login state machine.
    pub fn login(&self) -> ServerLogin<'_, S> {
        ServerLogin {
            server: self,
            state: LoginState::AwaitingKe1,
        }
    }
}

enum LoginState<S: Suite> {
    AwaitingKe1,
    AwaitingKe3(Box<opaque_ke::ServerLogin<S>>),
    Finished,
    Failed,
}

/// One login on the server: KE1 in, KE2 out, KE3 in, session key out. Any
/// call out of order, after an error or after the end fails with
/// [`Error::WrongState`].
pub struct ServerLogin<'s, S: Suite> {
    server: &'s Server<S>,
    state: LoginState<S>,
}

impl<S: Suite> core::fmt::Debug for ServerLogin<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            LoginState::AwaitingKe1 => "awaiting KE1",
            LoginState::AwaitingKe3(_) => "awaiting KE3",
            LoginState::Finished => "finished",
            LoginState::Failed => "failed",
        };
        f.debug_struct("ServerLogin")
            .field("state", &state)
            .finish()
    }
}

impl<S: Suite> ServerLogin<'_, S> {
    fn not_now(&self) -> Error {
        Error::WrongState(match self.state {
            LoginState::AwaitingKe1 => "OPAQUE server login awaits KE1",
            LoginState::AwaitingKe3(_) => "OPAQUE server login awaits KE3",
            LoginState::Finished => "OPAQUE server login has finished",
            LoginState::Failed => "OPAQUE server login has failed",
        })
    }

    /// Answers KE1 with fresh randomness. `record` is the user's record, or
    /// `None` for an unknown user: the server then answers with a fake
    /// record built from its keys and the randomness, and the client fails
    /// exactly as for a wrong password.
    pub fn handle_ke1(
        &mut self,
        rng: &mut impl CryptoRng,
        record: Option<&ServerRecord<S>>,
        credential_identifier: &[u8],
        ke1: &Ke1,
    ) -> Result<Ke2, Error> {
        let randomness = ServerLoginRandomness::generate(rng);
        self.handle_ke1_derand(&randomness, record, credential_identifier, ke1)
    }

    /// [`ServerLogin::handle_ke1`] with the given randomness (test vectors).
    pub fn handle_ke1_derand(
        &mut self,
        randomness: &ServerLoginRandomness,
        record: Option<&ServerRecord<S>>,
        credential_identifier: &[u8],
        ke1: &Ke1,
    ) -> Result<Ke2, Error> {
        if !matches!(self.state, LoginState::AwaitingKe1) {
            return Err(self.not_now());
        }
        self.state = LoginState::Failed;
        check_len(credential_identifier, MAX_INPUT_LEN)?;
        let request = CredentialRequest::<S>::deserialize(ke1.as_bytes())
            .map_err(|e| protocol_error(e, "KE1"))?;
        let mut rng = Replay::new()
            .bytes(&randomness.fake_masking_key)
            .bytes(&randomness.masking_nonce)
            .bytes(&randomness.keyshare_seed)
            .bytes(&randomness.nonce);
        let binding = &self.server.binding;
        let params = ServerLoginParameters {
            context: Some(&binding.context),
            identifiers: binding.identifiers(),
        };
        let started = opaque_ke::ServerLogin::start(
            &mut rng,
            &self.server.setup,
            record.map(|r| r.registration.clone()),
            request,
            credential_identifier,
            params,
        )
        .map_err(|e| protocol_error(e, "KE1"))?;
        rng.finish()?;
        let ke2 = Ke2::from_bytes(&started.message.serialize())?;
        self.state = LoginState::AwaitingKe3(Box::new(started.state));
        Ok(ke2)
    }

    /// Checks KE3: a wrong MAC (wrong password, unknown user, tampering)
    /// is [`Error::LoginFailed`]. On success returns the session key.
    pub fn handle_ke3(&mut self, ke3: &Ke3) -> Result<SessionKey, Error> {
        let state = match core::mem::replace(&mut self.state, LoginState::Failed) {
            LoginState::AwaitingKe3(state) => state,
            other => {
                self.state = other;
                return Err(self.not_now());
            }
        };
        let finalization = CredentialFinalization::<S>::deserialize(ke3.as_bytes())
            .map_err(|e| protocol_error(e, "KE3"))?;
        let binding = &self.server.binding;
        let params = ServerLoginParameters {
            context: Some(&binding.context),
            identifiers: binding.identifiers(),
        };
        let finished = state
            .finish(finalization, params)
            .map_err(|e| protocol_error(e, "KE3"))?;
        self.state = LoginState::Finished;
        Ok(SessionKey::from_slice(&finished.session_key))
    }
}
