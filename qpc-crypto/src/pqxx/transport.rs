//! pqXX transport: Noise `CipherState`s from the handshake's `Split()`, in
//! stream (ordered, implicit nonces) or datagram (unordered, explicit nonces,
//! replay window) mode, with rekeying by message count or time.
//!
//! ```text
//! stream record   = uint8 flags || ENCRYPT(k, n, ad, data)       n implicit,
//!                   ad = "" for flags 00, flags for 01
//! datagram record = uint64 nonce || ENCRYPT(k_epoch, nonce, "", data)
//!                   nonce = epoch << 48 | counter
//! ```
//!
//! Rekey is Noise's `REKEY(k)` (§4.2). In stream mode the sender marks the
//! last record under a key with [`KEY_UPDATE`]; in datagram mode the epoch
//! travels in the nonce and key `k_e` is `REKEY` applied `e` times.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use zeroize::Zeroizing;

use super::noise::{MAX_MESSAGE_LEN, TAG_LEN};
use super::window::NonceWindow;
use crate::Error;

/// Stream flag: this is the last record under the current key.
pub const KEY_UPDATE: u8 = 0x01;
/// Datagram header length: the explicit 64-bit nonce.
pub const DATAGRAM_HEADER_LEN: usize = 8;
/// Bits of a datagram nonce that carry the counter; the top 16 carry the
/// epoch.
pub const COUNTER_BITS: u32 = 48;
const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;
const MAX_EPOCH: u64 = u16::MAX as u64;
/// The smallest replay window a datagram transport accepts.
pub const MIN_REPLAY_WINDOW: usize = 1024;
/// The largest replay window a datagram transport accepts (8 KiB of bits).
pub const MAX_REPLAY_WINDOW: usize = 1 << 16;
/// The largest `max_epoch_jump`: bounds the `REKEY`s one forged record can
/// cost before it is refused.
pub const MAX_EPOCH_JUMP: u16 = 64;

/// The two directions' keys after the handshake, oriented for one side.
pub struct TransportKeys {
    send: Zeroizing<[u8; 32]>,
    receive: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for TransportKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TransportKeys(..)")
    }
}

impl TransportKeys {
    pub(super) fn new(send: [u8; 32], receive: [u8; 32]) -> Self {
        TransportKeys {
            send: Zeroizing::new(send),
            receive: Zeroizing::new(receive),
        }
    }

    /// The keys as Noise cipher states `(send, receive)`, for callers that
    /// run plain Noise transport themselves (e.g. the cacophony check).
    pub fn into_cipher_states(self) -> (CipherState, CipherState) {
        (
            CipherState::new(&self.send),
            CipherState::new(&self.receive),
        )
    }
}

/// A Noise `CipherState` key: ChaCha20-Poly1305 with Noise's nonce encoding
/// (32 zero bits, then the 64-bit nonce little-endian).
#[derive(Clone)]
pub struct CipherState {
    key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for CipherState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CipherState(..)")
    }
}

fn noise_nonce(n: u64) -> chacha20poly1305::Nonce {
    let mut nonce = [0; 12];
    nonce[4..].copy_from_slice(&n.to_le_bytes());
    nonce.into()
}

impl CipherState {
    /// A cipher state with key `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        CipherState {
            key: Zeroizing::new(*key),
        }
    }

    fn aead(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(self.key.as_ref().into())
    }

    /// Encrypts `buf[start..]` in place under nonce `n` and appends the tag.
    /// Nonce `2^64 - 1` is reserved by Noise and refused.
    pub fn encrypt_in_place(
        &self,
        n: u64,
        ad: &[u8],
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        if n == u64::MAX {
            return Err(Error::NonceExhausted);
        }
        let tag = self
            .aead()
            .encrypt_in_place_detached(&noise_nonce(n), ad, &mut buf[start..])
            .map_err(|_| Error::ContentTooLong {
                len: buf.len() - start,
                max: MAX_MESSAGE_LEN - TAG_LEN,
            })?;
        buf.extend_from_slice(&tag);
        Ok(())
    }

    /// Decrypts `buf` (ciphertext and tag) in place under nonce `n`; on
    /// success `buf` holds the plaintext, on failure it is cleared.
    pub fn decrypt_in_place(&self, n: u64, ad: &[u8], buf: &mut Vec<u8>) -> Result<(), Error> {
        let Some(body_len) = buf.len().checked_sub(TAG_LEN) else {
            buf.clear();
            return Err(Error::OpenFailed);
        };
        let (body, tag) = buf.split_at_mut(body_len);
        let tag = chacha20poly1305::Tag::clone_from_slice(tag);
        let opened = self
            .aead()
            .decrypt_in_place_detached(&noise_nonce(n), ad, body, &tag);
        if opened.is_err() {
            buf.clear();
            return Err(Error::OpenFailed);
        }
        buf.truncate(body_len);
        Ok(())
    }

    /// Noise `REKEY(k)`: the first 32 bytes of
    /// `ENCRYPT(k, 2^64 - 1, "", 32 zero bytes)`.
    pub fn rekeyed(&self) -> CipherState {
        let mut block = Zeroizing::new([0u8; 32]);
        // Detached tag ignored: only the keystream-encrypted zeros are kept.
        let _tag = self
            .aead()
            .encrypt_in_place_detached(&noise_nonce(u64::MAX), &[], block.as_mut())
            .expect("32 bytes always encrypt");
        CipherState::new(&block)
    }
}

/// Limits and rekey policy of a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Largest plaintext per record; at most [`MAX_PLAINTEXT_LEN`].
    pub max_plaintext_len: usize,
    /// Rekey after this many records under one key (≥ 1).
    pub rekey_after_messages: u64,
    /// Rekey when a key is this old (milliseconds, injected clock).
    pub rekey_after_ms: u64,
    /// Datagram mode: counters remembered for replay detection
    /// ([`MIN_REPLAY_WINDOW`] to [`MAX_REPLAY_WINDOW`]; rounded up to a
    /// multiple of 64).
    pub replay_window: usize,
    /// Datagram mode: how many epochs ahead a record may be (1 to
    /// [`MAX_EPOCH_JUMP`]).
    pub max_epoch_jump: u16,
}

/// The largest plaintext any record can carry: a Noise message minus the
/// tag and the datagram header.
pub const MAX_PLAINTEXT_LEN: usize = MAX_MESSAGE_LEN - TAG_LEN - DATAGRAM_HEADER_LEN;

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_plaintext_len: MAX_PLAINTEXT_LEN,
            rekey_after_messages: 1 << 20,
            rekey_after_ms: 120_000,
            replay_window: 2048,
            max_epoch_jump: 8,
        }
    }
}

impl TransportConfig {
    fn validate(&self) -> Result<(), Error> {
        if self.max_plaintext_len > MAX_PLAINTEXT_LEN {
            return Err(Error::ContentTooLong {
                len: self.max_plaintext_len,
                max: MAX_PLAINTEXT_LEN,
            });
        }
        if self.rekey_after_messages == 0 {
            return Err(Error::InvalidConfig(
                "rekey_after_messages must be at least 1",
            ));
        }
        if !(MIN_REPLAY_WINDOW..=MAX_REPLAY_WINDOW).contains(&self.replay_window) {
            return Err(Error::InvalidConfig("replay_window must be 1024 to 65536"));
        }
        if !(1..=MAX_EPOCH_JUMP).contains(&self.max_epoch_jump) {
            return Err(Error::InvalidConfig("max_epoch_jump must be 1 to 64"));
        }
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<(), Error> {
        if len > self.max_plaintext_len {
            return Err(Error::ContentTooLong {
                len,
                max: self.max_plaintext_len,
            });
        }
        Ok(())
    }
}

/// When the sending key must change: after a count or an age.
#[derive(Debug, Clone)]
struct RekeyClock {
    sent: u64,
    since_ms: u64,
}

impl RekeyClock {
    fn new(now_ms: u64) -> Self {
        RekeyClock {
            sent: 0,
            since_ms: now_ms,
        }
    }

    /// Counts one record; true if it must be the last under this key.
    fn tick(&mut self, now_ms: u64, config: &TransportConfig) -> bool {
        self.sent += 1;
        let due = self.sent >= config.rekey_after_messages
            || now_ms.saturating_sub(self.since_ms) >= config.rekey_after_ms;
        if due {
            *self = RekeyClock::new(now_ms);
        }
        due
    }
}

/// Ordered, reliable transport (a QUIC stream, TCP, a KISS serial link).
/// Any error is fatal: the transport refuses everything after it.
#[derive(Debug)]
pub struct StreamTransport {
    send: CipherState,
    send_nonce: u64,
    receive: CipherState,
    receive_nonce: u64,
    clock: RekeyClock,
    config: TransportConfig,
    failed: bool,
}

impl StreamTransport {
    /// A stream transport from the handshake's keys; `now_ms` starts the
    /// first key's age.
    pub fn new(keys: TransportKeys, config: TransportConfig, now_ms: u64) -> Result<Self, Error> {
        config.validate()?;
        let (send, receive) = keys.into_cipher_states();
        Ok(StreamTransport {
            send,
            send_nonce: 0,
            receive,
            receive_nonce: 0,
            clock: RekeyClock::new(now_ms),
            config,
            failed: false,
        })
    }

    fn usable(&self) -> Result<(), Error> {
        if self.failed {
            return Err(Error::WrongState("stream transport failed earlier"));
        }
        Ok(())
    }

    /// Appends the record carrying `plaintext` to `out`.
    pub fn seal(&mut self, now_ms: u64, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.usable()?;
        self.config.check_len(plaintext.len())?;
        let update = self.clock.tick(now_ms, &self.config);
        let start = out.len();
        let flags = if update { KEY_UPDATE } else { 0 };
        out.reserve(1 + plaintext.len() + TAG_LEN);
        out.push(flags);
        out.extend_from_slice(plaintext);
        if let Err(e) =
            self.send
                .encrypt_in_place(self.send_nonce, stream_ad(&flags), out, start + 1)
        {
            out.truncate(start);
            self.failed = true;
            return Err(e);
        }
        self.send_nonce += 1;
        if update {
            self.send = self.send.rekeyed();
        }
        Ok(())
    }

    /// Opens the next record; its plaintext replaces the contents of `out`.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.usable()?;
        let result = self.open_inner(record, out);
        if result.is_err() {
            self.failed = true;
            out.clear();
        }
        result
    }

    fn open_inner(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let (&flags, sealed) = record
            .split_first()
            .filter(|(_, sealed)| sealed.len() >= TAG_LEN)
            .ok_or(Error::Malformed(
                "stream record shorter than its flags and tag",
            ))?;
        self.config.check_len(sealed.len() - TAG_LEN)?;
        if flags & !KEY_UPDATE != 0 {
            return Err(Error::Malformed("unknown stream flags"));
        }
        out.clear();
        out.extend_from_slice(sealed);
        self.receive
            .decrypt_in_place(self.receive_nonce, stream_ad(&flags), out)?;
        self.receive_nonce += 1;
        if flags == KEY_UPDATE {
            self.receive = self.receive.rekeyed();
        }
        Ok(())
    }
}

/// The associated data of a stream record: empty for flags 0, the flags
/// byte otherwise (`spec/06` §9.2), so both values are authenticated and
/// the common record needs no associated-data pass.
fn stream_ad(flags: &u8) -> &[u8] {
    if *flags == 0 {
        &[]
    } else {
        core::slice::from_ref(flags)
    }
}

/// Unordered, lossy transport (UDP, LoRa): explicit nonces, a replay window,
/// epochs. A bad record is refused without harming the transport.
#[derive(Debug)]
pub struct DatagramTransport {
    send: CipherState,
    send_epoch: u64,
    send_counter: u64,
    /// Set when a rekey fell due in the last epoch: nothing more is sent.
    send_exhausted: bool,
    clock: RekeyClock,
    receive: CipherState,
    receive_previous: Option<CipherState>,
    receive_epoch: u64,
    window: NonceWindow,
    config: TransportConfig,
}

impl DatagramTransport {
    /// A datagram transport from the handshake's keys.
    pub fn new(keys: TransportKeys, config: TransportConfig, now_ms: u64) -> Result<Self, Error> {
        config.validate()?;
        let (send, receive) = keys.into_cipher_states();
        Ok(DatagramTransport {
            send,
            send_epoch: 0,
            send_counter: 0,
            send_exhausted: false,
            clock: RekeyClock::new(now_ms),
            receive,
            receive_previous: None,
            receive_epoch: 0,
            window: NonceWindow::new(config.replay_window),
            config,
        })
    }

    /// Appends the record carrying `plaintext` to `out`.
    pub fn seal(&mut self, now_ms: u64, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.config.check_len(plaintext.len())?;
        if self.send_counter > COUNTER_MASK || self.send_exhausted {
            return Err(Error::NonceExhausted);
        }
        let nonce = self.send_epoch << COUNTER_BITS | self.send_counter;
        let start = out.len();
        out.reserve(DATAGRAM_HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce.to_be_bytes());
        out.extend_from_slice(plaintext);
        self.send
            .encrypt_in_place(nonce, &[], out, start + DATAGRAM_HEADER_LEN)?;
        self.send_counter += 1;
        if self.clock.tick(now_ms, &self.config) {
            if self.send_epoch == MAX_EPOCH {
                self.send_exhausted = true;
            } else {
                self.send_epoch += 1;
                self.send = self.send.rekeyed();
            }
        }
        Ok(())
    }

    /// Opens a record; its plaintext replaces the contents of `out`. A
    /// refused record leaves the transport as it was.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        out.clear();
        let (header, body) = record
            .split_first_chunk::<DATAGRAM_HEADER_LEN>()
            .ok_or(Error::Malformed("datagram shorter than its nonce"))?;
        let nonce = u64::from_be_bytes(*header);
        if nonce == u64::MAX {
            return Err(Error::Malformed("datagram nonce 2^64 - 1 is reserved"));
        }
        let (epoch, counter) = (nonce >> COUNTER_BITS, nonce & COUNTER_MASK);
        let body_len = body
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Malformed("datagram shorter than its tag"))?;
        self.config.check_len(body_len)?;
        self.window.check(counter, nonce)?;
        let key = self.key_for(epoch, nonce)?;
        out.extend_from_slice(body);
        key.decrypt_in_place(nonce, &[], out)?;
        self.window.mark(counter);
        if epoch > self.receive_epoch {
            self.receive_previous = Some(self.epoch_key(epoch - 1));
            self.receive = key;
            self.receive_epoch = epoch;
        }
        Ok(())
    }

    /// The key of `epoch`, if the transport still has or may derive it.
    fn key_for(&self, epoch: u64, nonce: u64) -> Result<CipherState, Error> {
        if epoch == self.receive_epoch {
            Ok(self.receive.clone())
        } else if epoch + 1 == self.receive_epoch {
            self.receive_previous.clone().ok_or(Error::TooOld { nonce })
        } else if epoch < self.receive_epoch {
            Err(Error::TooOld { nonce })
        } else if epoch - self.receive_epoch > u64::from(self.config.max_epoch_jump) {
            Err(Error::Malformed("datagram epoch too far ahead"))
        } else {
            Ok(self.epoch_key(epoch))
        }
    }

    /// `REKEY` applied from the current receive epoch up to `epoch`.
    fn epoch_key(&self, epoch: u64) -> CipherState {
        (self.receive_epoch..epoch).fold(self.receive.clone(), |k, _| k.rekeyed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (TransportKeys, TransportKeys) {
        (
            TransportKeys::new([1; 32], [2; 32]),
            TransportKeys::new([2; 32], [1; 32]),
        )
    }

    #[test]
    fn unknown_stream_flags_are_refused() {
        let (a, b) = keys();
        let (send, _) = a.into_cipher_states();
        let mut b = StreamTransport::new(b, TransportConfig::default(), 0).unwrap();
        let mut record = b"\x02data".to_vec();
        send.encrypt_in_place(0, &[2], &mut record, 1).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            b.open(&record, &mut out),
            Err(Error::Malformed("unknown stream flags"))
        );
    }

    #[test]
    fn datagram_epochs_run_out_into_an_error() {
        let (a, b) = keys();
        let config = TransportConfig {
            rekey_after_messages: 1,
            ..TransportConfig::default()
        };
        let mut a = DatagramTransport::new(a, config.clone(), 0).unwrap();
        let mut b = DatagramTransport::new(b, config, 0).unwrap();
        let (mut record, mut out) = (Vec::new(), Vec::new());
        for epoch in 0..=MAX_EPOCH {
            record.clear();
            a.seal(0, b"x", &mut record).unwrap();
            assert_eq!(record[..2], (epoch as u16).to_be_bytes());
        }
        assert_eq!(a.seal(0, b"x", &mut record), Err(Error::NonceExhausted));
        let mut reserved = u64::MAX.to_be_bytes().to_vec();
        reserved.extend([0; 16]);
        assert!(matches!(
            b.open(&reserved, &mut out),
            Err(Error::Malformed(_))
        ));
    }
}
