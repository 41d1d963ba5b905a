//! OPAQUE against the outside world: the RFC 9807 vectors
//! (vectors/upstream/opaque-rfc9807-vectors.json, cfrg/draft-irtf-cfrg-opaque
//! `poc/vectors/vectors.json`) run through qpc's own client and server state
//! machines with the test-only Identity-KSF suite. The vectors' fixed
//! randomness is fed through the `*_derand` entry points, which hand it to
//! opaque-ke in the order opaque-ke draws it.

use std::collections::BTreeMap;

use qpc_crypto::opaque::{
    Binding, ClientConfig, ClientLogin, ClientLoginRandomness, ClientRegistration,
    IdentityKsfSuite, Ke1, RegistrationRandomness, Server, ServerLoginRandomness,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    config: BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, String>,
}

impl Vector {
    fn input(&self, name: &str) -> Vec<u8> {
        hex::decode(&self.inputs[name]).unwrap()
    }

    fn input_array<const N: usize>(&self, name: &str) -> [u8; N] {
        self.input(name).try_into().unwrap()
    }

    fn output(&self, name: &str) -> Vec<u8> {
        hex::decode(&self.outputs[name]).unwrap()
    }

    fn binding(&self) -> Binding {
        let optional = |name: &str| self.inputs.get(name).map(|h| hex::decode(h).unwrap());
        Binding {
            context: hex::decode(&self.config["Context"]).unwrap(),
            client_identity: optional("client_identity"),
            server_identity: optional("server_identity"),
        }
    }

    /// Ours: ristretto255 OPRF and 3DH with SHA-512, Identity KSF.
    fn is_ours(&self) -> bool {
        self.config["Group"] == "ristretto255"
            && self.config["OPRF"] == "ristretto255-SHA512"
            && self.config["Hash"] == "SHA512"
            && self.config["KSF"] == "Identity"
            && self.config["Name"] == "3DH"
    }

    fn is_fake(&self) -> bool {
        self.config["Fake"] == "True"
    }
}

fn upstream() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/upstream/opaque-rfc9807-vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Any valid scalar: a real vector never reaches the fake record.
const UNUSED_FAKE_KEY: [u8; 32] = {
    let mut k = [0; 32];
    k[0] = 7;
    k
};

fn run_real(v: &Vector) {
    let binding = v.binding();
    let config = ClientConfig::identity_ksf(binding.clone());
    let server = Server::<IdentityKsfSuite>::from_keys(
        &v.input_array("server_private_key"),
        &v.input_array("oprf_seed"),
        &UNUSED_FAKE_KEY,
        binding,
    )
    .unwrap();
    assert_eq!(server.public_key()[..], v.input("server_public_key")[..]);
    let password = v.input("password");
    let credential_identifier = v.input("credential_identifier");

    let randomness = RegistrationRandomness {
        blind: v.input_array("blind_registration"),
        envelope_nonce: v.input_array("envelope_nonce"),
    };
    let (registration, request) =
        ClientRegistration::start_derand(&randomness, &config, &password).unwrap();
    assert_eq!(request.as_bytes()[..], v.output("registration_request")[..]);
    let response = server
        .registration_response(&request, &credential_identifier)
        .unwrap();
    assert_eq!(
        response.as_bytes()[..],
        v.output("registration_response")[..]
    );
    let registered = registration.finish(&response).unwrap();
    assert_eq!(
        registered.record.as_bytes()[..],
        v.output("registration_upload")[..]
    );
    assert_eq!(
        registered.export_key.as_bytes()[..],
        v.output("export_key")[..]
    );
    let record = server.registration_finish(&registered.record).unwrap();

    let randomness = ClientLoginRandomness {
        blind: v.input_array("blind_login"),
        keyshare_seed: v.input_array("client_keyshare_seed"),
        nonce: v.input_array("client_nonce"),
    };
    let (login, ke1) = ClientLogin::start_derand(&randomness, &config, &password).unwrap();
    assert_eq!(ke1.as_bytes()[..], v.output("KE1")[..]);
    let randomness = ServerLoginRandomness {
        fake_masking_key: [0x5a; 64],
        masking_nonce: v.input_array("masking_nonce"),
        keyshare_seed: v.input_array("server_keyshare_seed"),
        nonce: v.input_array("server_nonce"),
    };
    let mut server_login = server.login();
    let ke2 = server_login
        .handle_ke1_derand(&randomness, Some(&record), &credential_identifier, &ke1)
        .unwrap();
    assert_eq!(ke2.as_bytes()[..], v.output("KE2")[..]);
    let client = login.finish(&ke2).unwrap();
    assert_eq!(client.ke3.as_bytes()[..], v.output("KE3")[..]);
    assert_eq!(
        client.session_key.as_bytes()[..],
        v.output("session_key")[..]
    );
    assert_eq!(client.export_key.as_bytes()[..], v.output("export_key")[..]);
    let session_key = server_login.handle_ke3(&client.ke3).unwrap();
    assert_eq!(session_key.as_bytes()[..], v.output("session_key")[..]);
}

fn run_fake(v: &Vector) {
    let server = Server::<IdentityKsfSuite>::from_keys(
        &v.input_array("server_private_key"),
        &v.input_array("oprf_seed"),
        &v.input_array("client_private_key"),
        v.binding(),
    )
    .unwrap();
    assert_eq!(server.public_key()[..], v.input("server_public_key")[..]);
    let randomness = ServerLoginRandomness {
        fake_masking_key: v.input_array("masking_key"),
        masking_nonce: v.input_array("masking_nonce"),
        keyshare_seed: v.input_array("server_keyshare_seed"),
        nonce: v.input_array("server_nonce"),
    };
    let ke1 = Ke1::from_bytes(&v.input("KE1")).unwrap();
    let ke2 = server
        .login()
        .handle_ke1_derand(&randomness, None, &v.input("credential_identifier"), &ke1)
        .unwrap();
    assert_eq!(ke2.as_bytes()[..], v.output("KE2")[..]);
}

#[test]
fn rfc9807_vectors_through_qpc_state_machines() {
    let vectors = upstream();
    assert_eq!(vectors.len(), 9);
    let ours: Vec<_> = vectors.iter().filter(|v| v.is_ours()).collect();
    let (fake, real): (Vec<_>, Vec<_>) = ours.into_iter().partition(|v| v.is_fake());
    // The two ristretto255 real vectors (without and with identities) and
    // the ristretto255 fake-credential vector.
    assert_eq!(real.len(), 2);
    assert_eq!(fake.len(), 1);
    for v in real {
        run_real(v);
    }
    for v in fake {
        run_fake(v);
    }
}
