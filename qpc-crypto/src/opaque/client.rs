//! The client's two state machines (`spec/08-opaque.md` §6): registration
//! and login. Each `start` returns the state and the first message; each
//! `finish` consumes the state, so no step can run twice or out of order.

use opaque_ke::{
    ClientLoginFinishParameters, ClientRegistrationFinishParameters, CredentialResponse,
    RegistrationResponse as OkeRegistrationResponse,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::messages::{
    Ke1, Ke2, Ke3, RegistrationRecord, RegistrationRequest, RegistrationResponse,
};
use super::randomness::{check_scalar, ClientLoginRandomness, RegistrationRandomness, Replay};
use super::suite::{check_len, ClientConfig, Suite, MAX_INPUT_LEN};
use super::{protocol_error, ExportKey, SessionKey};
use crate::Error;

/// Checks a password: 1 to [`MAX_INPUT_LEN`] bytes.
fn check_password(password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if password.is_empty() {
        return Err(Error::Malformed("empty password"));
    }
    check_len(password, MAX_INPUT_LEN)?;
    Ok(Zeroizing::new(password.to_vec()))
}

/// A registration in progress: the blind, the password and the envelope
/// nonce, until the server's response arrives.
pub struct ClientRegistration<'c, S: Suite> {
    config: &'c ClientConfig<S>,
    password: Zeroizing<Vec<u8>>,
    state: opaque_ke::ClientRegistration<S>,
    envelope_nonce: Zeroizing<[u8; 32]>,
}

impl<S: Suite> core::fmt::Debug for ClientRegistration<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientRegistration").finish_non_exhaustive()
    }
}

/// What a finished registration yields.
#[derive(Debug)]
pub struct RegistrationOutput {
    /// The upload for the server.
    pub record: RegistrationRecord,
    /// The export key (§7.2): the same at every later login.
    pub export_key: ExportKey,
    /// The server's static public key the envelope is bound to.
    pub server_public_key: [u8; 32],
}

impl<'c, S: Suite> ClientRegistration<'c, S> {
    /// Starts a registration with fresh randomness.
    pub fn start(
        rng: &mut impl CryptoRng,
        config: &'c ClientConfig<S>,
        password: &[u8],
    ) -> Result<(Self, RegistrationRequest), Error> {
        Self::start_derand(&RegistrationRandomness::generate(rng), config, password)
    }

    /// Starts a registration with the given randomness (test vectors).
    pub fn start_derand(
        randomness: &RegistrationRandomness,
        config: &'c ClientConfig<S>,
        password: &[u8],
    ) -> Result<(Self, RegistrationRequest), Error> {
        config.binding.check()?;
        let password = check_password(password)?;
        check_scalar("blind must be a scalar in 1..l", &randomness.blind)?;
        let mut rng = Replay::new().blind(&randomness.blind);
        let started = opaque_ke::ClientRegistration::<S>::start(&mut rng, &password)
            .map_err(|e| protocol_error(e, "password"))?;
        rng.finish()?;
        let request = RegistrationRequest::from_bytes(&started.message.serialize())?;
        Ok((
            ClientRegistration {
                config,
                password,
                state: started.state,
                envelope_nonce: Zeroizing::new(randomness.envelope_nonce),
            },
            request,
        ))
    }

    /// Finishes with the server's response: runs the KSF, seals the
    /// envelope. A response that is not two valid elements, or whose
    /// evaluated element is the client's own blinded element, is refused
    /// with `invalid_element`.
    pub fn finish(self, response: &RegistrationResponse) -> Result<RegistrationOutput, Error> {
        let response = OkeRegistrationResponse::<S>::deserialize(response.as_bytes())
            .map_err(|e| protocol_error(e, "RegistrationResponse"))?;
        let mut rng = Replay::new().bytes(self.envelope_nonce.as_ref());
        let params = ClientRegistrationFinishParameters::new(
            self.config.binding.identifiers(),
            Some(&self.config.ksf),
        );
        let finished = self
            .state
            .finish(&mut rng, &self.password, response, params)
            .map_err(|e| protocol_error(e, "RegistrationResponse"))?;
        rng.finish()?;
        Ok(RegistrationOutput {
            record: RegistrationRecord::from_bytes(&finished.message.serialize())?,
            export_key: ExportKey::from_slice(&finished.export_key),
            server_public_key: crate::error::fixed(
                "server public key",
                &finished.server_s_pk.serialize(),
            )?,
        })
    }
}

/// A login in progress, until KE2 arrives.
pub struct ClientLogin<'c, S: Suite> {
    config: &'c ClientConfig<S>,
    password: Zeroizing<Vec<u8>>,
    state: opaque_ke::ClientLogin<S>,
}

impl<S: Suite> core::fmt::Debug for ClientLogin<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientLogin").finish_non_exhaustive()
    }
}

/// What a successful login yields on the client.
#[derive(Debug)]
pub struct LoginOutput {
    /// KE3, for the server.
    pub ke3: Ke3,
    /// The session key, equal to the server's.
    pub session_key: SessionKey,
    /// The export key, equal to the one registration produced.
    pub export_key: ExportKey,
    /// The server's static public key (as stored in the envelope).
    pub server_public_key: [u8; 32],
}

impl<'c, S: Suite> ClientLogin<'c, S> {
    /// Starts a login with fresh randomness.
    pub fn start(
        rng: &mut impl CryptoRng,
        config: &'c ClientConfig<S>,
        password: &[u8],
    ) -> Result<(Self, Ke1), Error> {
        Self::start_derand(&ClientLoginRandomness::generate(rng), config, password)
    }

    /// Starts a login with the given randomness (test vectors).
    pub fn start_derand(
        randomness: &ClientLoginRandomness,
        config: &'c ClientConfig<S>,
        password: &[u8],
    ) -> Result<(Self, Ke1), Error> {
        config.binding.check()?;
        let password = check_password(password)?;
        check_scalar("blind must be a scalar in 1..l", &randomness.blind)?;
        let mut rng = Replay::new()
            .blind(&randomness.blind)
            .bytes(&randomness.keyshare_seed)
            .bytes(&randomness.nonce);
        let started = opaque_ke::ClientLogin::<S>::start(&mut rng, &password)
            .map_err(|e| protocol_error(e, "password"))?;
        rng.finish()?;
        let ke1 = Ke1::from_bytes(&started.message.serialize())?;
        Ok((
            ClientLogin {
                config,
                password,
                state: started.state,
            },
            ke1,
        ))
    }

    /// Finishes with KE2. Wrong password, unknown user (a fake record),
    /// a tampered KE2 or a reflected evaluation all give the one error
    /// [`Error::LoginFailed`]; KE2 elements that do not decode give
    /// `invalid_element`.
    pub fn finish(self, ke2: &Ke2) -> Result<LoginOutput, Error> {
        let response = CredentialResponse::<S>::deserialize(ke2.as_bytes())
            .map_err(|e| protocol_error(e, "KE2"))?;
        let params = ClientLoginFinishParameters::new(
            Some(&self.config.binding.context),
            self.config.binding.identifiers(),
            Some(&self.config.ksf),
        );
        let mut rng = Replay::new();
        let finished = self
            .state
            .finish(&mut rng, &self.password, response, params)
            .map_err(|e| match e {
                opaque_ke::errors::ProtocolError::ReflectedValueError => Error::LoginFailed,
                e => protocol_error(e, "KE2"),
            })?;
        rng.finish()?;
        Ok(LoginOutput {
            ke3: Ke3::from_bytes(&finished.message.serialize())?,
            session_key: SessionKey::from_slice(&finished.session_key),
            export_key: ExportKey::from_slice(&finished.export_key),
            server_public_key: crate::error::fixed(
                "server public key",
                &finished.server_s_pk.serialize(),
            )?,
        })
    }
}
