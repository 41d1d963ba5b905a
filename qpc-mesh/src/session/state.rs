//! The established session (`spec/12-mls-lite.md` §A.5–§A.6): sealing and
//! opening Data, the epoch step of a resumption, trial decryption under
//! the next epoch.

use bytes::Bytes;
use qpc_crypto::identity::Address;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::envelope::{Envelope, Header, MessageType};
use crate::session::chain::{ReceiveChain, SendChain};
use crate::session::keys::{EpochKeys, Role};
use crate::session::wire::{Data, Resume, SessionMessage, MAX_CONTENT_LEN};
use crate::symmetric::{counter_nonce, open, seal, Secret, TAG_LEN};
use crate::{Error, Result};

/// The keys and counters of one epoch, seen from one role.
pub(crate) struct Epoch {
    pub number: u16,
    pub send: SendChain,
    pub receive: ReceiveChain,
    pub send_mask: u32,
    pub receive_mask: u32,
    pub send_resume: Secret,
    pub receive_resume: Secret,
    pub next_root: Secret,
}

impl Epoch {
    /// Epoch `number`, from its root.
    pub fn from_root(number: u16, root: &[u8; 32], role: Role) -> Self {
        let keys = EpochKeys::derive(root, role);
        Epoch {
            number,
            send: SendChain::new(keys.send_chain),
            receive: ReceiveChain::new(keys.receive_chain),
            send_mask: keys.send_mask,
            receive_mask: keys.receive_mask,
            send_resume: keys.send_resume,
            receive_resume: keys.receive_resume,
            next_root: keys.next_root,
        }
    }

    /// The epoch after this one (`nonce_exhausted` after 65535).
    pub fn next(&self, role: Role) -> Result<Self> {
        let number = self.number.checked_add(1).ok_or(Error::NonceExhausted)?;
        Ok(Epoch::from_root(number, &self.next_root, role))
    }
}

/// What [`Session::open`] received.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Application content, with the sender's counter in its epoch.
    Content {
        /// The counter.
        counter: u32,
        /// The content.
        content: Zeroizing<Vec<u8>>,
    },
    /// The peer stepped to the next epoch, and so did this session: answer
    /// with [`Session::resume_answer`] so that the peer knows.
    Resumed {
        /// The new epoch.
        epoch: u16,
    },
    /// The peer confirmed the epoch this session is in.
    ResumeConfirmed {
        /// The epoch.
        epoch: u16,
    },
}

/// An established pairwise session (§A.5): per-direction symmetric
/// ratchets under a shared root, resumable without a KEM.
pub struct Session {
    pub(crate) role: Role,
    pub(crate) own: Address,
    pub(crate) peer: Address,
    pub(crate) own_tag: u16,
    pub(crate) peer_tag: u16,
    pub(crate) epoch: Epoch,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("peer", &self.peer)
            .field("own_tag", &self.own_tag)
            .field("peer_tag", &self.peer_tag)
            .field("epoch", &self.epoch.number)
            .finish_non_exhaustive()
    }
}

/// The associated data: the originated mesh header, then the body's
/// bytes before the AEAD output (§A.4).
pub(crate) fn associated_data(header: &Header, message: &SessionMessage) -> Result<Vec<u8>> {
    Ok([&header.originated()?[..], &message.prefix()].concat())
}

/// The datagram of a Session message.
pub(crate) fn datagram(header: Header, message: &SessionMessage) -> Result<Vec<u8>> {
    Envelope {
        header,
        body: Bytes::from(message.to_bytes()?),
    }
    .to_bytes()
}

/// The header of a Session message the originator sends.
pub(crate) fn header(destination: Address, message_id: u32, hop_limit: u8) -> Header {
    Header {
        message_type: MessageType::Session,
        hop_count: 0,
        hop_limit,
        destination,
        message_id,
        hop_id: None,
    }
}

/// Splits a datagram for `own` into its header and Session body.
pub(crate) fn decode_for(own: &Address, datagram: &[u8]) -> Result<(Header, SessionMessage)> {
    let envelope = Envelope::decode(Bytes::copy_from_slice(datagram))?;
    if envelope.header.message_type != MessageType::Session {
        return Err(Error::Malformed {
            message: "session message",
            reason: "not of type Session",
        });
    }
    if envelope.header.destination != *own {
        return Err(Error::Malformed {
            message: "session message",
            reason: "addressed to another node",
        });
    }
    Ok((envelope.header, SessionMessage::decode(envelope.body)?))
}

impl Session {
    /// The session's role in the establishment.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's address.
    pub fn peer(&self) -> Address {
        self.peer
    }

    /// The tag peers use to name this session to us.
    pub fn receive_tag(&self) -> u16 {
        self.own_tag
    }

    /// The current epoch (0 after establishment, one more per resumption).
    pub fn epoch(&self) -> u16 {
        self.epoch.number
    }

    /// Seals `content` (at most 1024 bytes) as the next Data message to
    /// the peer: the datagram (a mesh envelope of type Session). Refuses
    /// with `wrong_state` once the counters reserved by the last
    /// [`Session::export`] are used up (§A.7).
    pub fn seal(&mut self, content: &[u8], hop_limit: u8) -> Result<Vec<u8>> {
        if content.len() > MAX_CONTENT_LEN {
            return Err(Error::ContentTooLong {
                len: content.len(),
                max: MAX_CONTENT_LEN,
            });
        }
        let (counter, key) = self.epoch.send.next_key()?;
        let header = header(self.peer, counter ^ self.epoch.send_mask, hop_limit);
        let prefix = SessionMessage::Data(Data {
            tag: self.peer_tag,
            ciphertext: Bytes::new(),
        });
        let aad = associated_data(&header, &prefix)?;
        let message = SessionMessage::Data(Data {
            tag: self.peer_tag,
            ciphertext: Bytes::from(seal(&key, &counter_nonce(counter), &aad, content)),
        });
        datagram(header, &message)
    }

    /// Steps to the next epoch (§A.6) and returns the Resume datagram that
    /// tells the peer; the peer follows on receiving it, or on the first
    /// Data message of the new epoch. Export before sealing in it.
    pub fn resume(&mut self, rng: &mut impl CryptoRng, hop_limit: u8) -> Result<Vec<u8>> {
        self.epoch = self.epoch.next(self.role)?;
        self.resume_answer(rng, hop_limit)
    }

    /// A Resume datagram for the current epoch: the answer to
    /// [`Received::Resumed`], or a retransmission.
    pub fn resume_answer(&self, rng: &mut impl CryptoRng, hop_limit: u8) -> Result<Vec<u8>> {
        let header = header(self.peer, rng.next_u32(), hop_limit);
        let mut resume = Resume {
            tag: self.peer_tag,
            epoch: self.epoch.number,
            mac: [0; TAG_LEN],
        };
        let aad = associated_data(&header, &SessionMessage::Resume(resume.clone()))?;
        let nonce = counter_nonce(header.message_id);
        let sealed = seal(&self.epoch.send_resume, &nonce, &aad, &[]);
        resume.mac.copy_from_slice(&sealed);
        datagram(header, &SessionMessage::Resume(resume))
    }

    /// Opens a Data or Resume datagram from the peer (checks D1–D5, R1–R4
    /// of §A.5–§A.6). Nothing changes unless it opens.
    pub fn open(&mut self, datagram: &[u8]) -> Result<Received> {
        let (header, message) = decode_for(&self.own, datagram)?;
        let tag = match &message {
            SessionMessage::Data(d) => d.tag,
            SessionMessage::Resume(r) => r.tag,
            _ => return Err(Error::WrongState("establishment message to a session")),
        };
        if tag != self.own_tag {
            return Err(Error::UnknownSession(tag));
        }
        let aad = associated_data(&header, &message)?;
        match message {
            SessionMessage::Data(data) => self.open_data(&header, &aad, &data),
            SessionMessage::Resume(resume) => self.open_resume(&header, &aad, &resume),
            _ => unreachable!("filtered above"),
        }
    }

    fn open_data(&mut self, header: &Header, aad: &[u8], data: &Data) -> Result<Received> {
        match open_in(&mut self.epoch, header, aad, data) {
            Ok(received) => Ok(received),
            Err(current) => {
                // A peer that resumed while its Resume was lost: one epoch
                // ahead at most (D5).
                let mut next = self.epoch.next(self.role).map_err(|_| current.clone())?;
                let received = open_in(&mut next, header, aad, data).map_err(|_| current)?;
                self.epoch = next;
                Ok(received)
            }
        }
    }

    fn open_resume(&mut self, header: &Header, aad: &[u8], resume: &Resume) -> Result<Received> {
        let nonce = counter_nonce(header.message_id);
        let verify = |key: &Secret| open(key, &nonce, aad, &resume.mac).map(|_| ());
        let current = self.epoch.number;
        if resume.epoch == current {
            verify(&self.epoch.receive_resume)?;
            return Ok(Received::ResumeConfirmed { epoch: current });
        }
        if resume.epoch < current {
            return Err(Error::TooOld(resume.epoch.into()));
        }
        if resume.epoch > current + 1 {
            return Err(Error::TooFarAhead {
                got: resume.epoch.into(),
                max: u64::from(current) + 1,
            });
        }
        let next = self.epoch.next(self.role)?;
        verify(&next.receive_resume)?;
        self.epoch = next;
        Ok(Received::Resumed {
            epoch: resume.epoch,
        })
    }
}

/// Opens `data` in `epoch`, committing the receive chain only on success.
fn open_in(epoch: &mut Epoch, header: &Header, aad: &[u8], data: &Data) -> Result<Received> {
    let counter = header.message_id ^ epoch.receive_mask;
    let candidate = epoch.receive.candidate(counter)?;
    let content = open(
        candidate.key(),
        &counter_nonce(counter),
        aad,
        &data.ciphertext,
    )?;
    epoch.receive.commit(candidate);
    Ok(Received::Content { counter, content })
}
