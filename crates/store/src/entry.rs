//! The journal's record format. Each entry is stored as one checksummed blob:
//!
//! ```text
//! version u8 | seq u64 | chain_id u64 | block u64 | timestamp u64 | kind u8 | payload (u32 len + bytes)
//! | seal flag u8 [+ state_hash 32] | crc32 u32 (over everything before it)
//! ```
//! `kind` 0 is a signed transaction (its wire bytes), 1 an operator action. An `Advance` carries the
//! seal of the block it closed: the state hash a replay must reproduce.

use granary_engine::codec::{Decoder, Encoder};
use granary_engine::{B256, SignedTransaction, SystemOp};

pub const ENTRY_VERSION: u8 = 1;
const KIND_TX: u8 = 0;
const KIND_SYSTEM: u8 = 1;
/// Largest payload an entry may carry (a transaction is a few hundred bytes).
pub const MAX_PAYLOAD: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Tx(SignedTransaction),
    System(SystemOp),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the journal: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The chain the record acted on and its block and clock when it was applied.
    pub chain_id: u64,
    pub block: u64,
    pub timestamp: u64,
    pub record: Record,
    /// For a block-closing `Advance`: the state hash the closed block ends with.
    pub seal: Option<B256>,
}

/// Why stored bytes are not a valid entry or snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    Checksum,
    Truncated,
    UnknownVersion(u8),
    Malformed(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Checksum => write!(f, "checksum mismatch"),
            Damage::Truncated => write!(f, "truncated"),
            Damage::UnknownVersion(v) => write!(f, "unknown format version {v}"),
            Damage::Malformed(why) => write!(f, "malformed: {why}"),
        }
    }
}

/// Split `bytes` into body and trailing CRC-32 and check it.
pub(crate) fn checked_body(bytes: &[u8]) -> Result<&[u8], Damage> {
    if bytes.len() < 5 {
        return Err(Damage::Truncated);
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let want = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(body) != want {
        return Err(Damage::Checksum);
    }
    Ok(body)
}

pub(crate) fn seal_crc(mut body: Vec<u8>) -> Vec<u8> {
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_be_bytes());
    body
}

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(ENTRY_VERSION).u64(self.seq).u64(self.chain_id).u64(self.block).u64(self.timestamp);
        match &self.record {
            Record::Tx(stx) => e.u8(KIND_TX).bytes(&stx.to_bytes()),
            Record::System(op) => {
                let mut p = Encoder::new();
                op.encode(&mut p);
                e.u8(KIND_SYSTEM).bytes(&p.buf)
            }
        };
        match self.seal {
            Some(h) => e.u8(1).buf.extend_from_slice(h.as_slice()),
            None => {
                e.u8(0);
            }
        }
        seal_crc(e.buf)
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, Damage> {
        if let Some(&v) = bytes.first()
            && v != ENTRY_VERSION
            && checked_body(bytes).is_ok()
        {
            return Err(Damage::UnknownVersion(v));
        }
        let body = checked_body(bytes)?;
        let mut d = Decoder::new(body);
        let m = |e: granary_engine::EngineError| Damage::Malformed(e.to_string());
        let _version = d.u8().map_err(m)?;
        let (seq, chain_id, block, timestamp) =
            (d.u64().map_err(m)?, d.u64().map_err(m)?, d.u64().map_err(m)?, d.u64().map_err(m)?);
        let kind = d.u8().map_err(m)?;
        let payload = d.bytes(MAX_PAYLOAD).map_err(m)?;
        let record = match kind {
            KIND_TX => Record::Tx(SignedTransaction::from_bytes(payload).map_err(m)?),
            KIND_SYSTEM => {
                let mut pd = Decoder::new(payload);
                let op = SystemOp::decode(&mut pd).map_err(m)?;
                pd.finish().map_err(m)?;
                Record::System(op)
            }
            k => return Err(Damage::Malformed(format!("record kind {k}"))),
        };
        let seal = match d.u8().map_err(m)? {
            0 => None,
            1 => {
                let mut h = [0u8; 32];
                for b in h.iter_mut() {
                    *b = d.u8().map_err(m)?;
                }
                Some(B256::from(h))
            }
            v => return Err(Damage::Malformed(format!("seal flag {v}"))),
        };
        d.finish().map_err(m)?;
        Ok(Entry { seq, chain_id, block, timestamp, record, seal })
    }
}

pub const SNAPSHOT_VERSION: u8 = 1;

/// A full state at a journal position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last journal entry the state includes.
    pub seq: u64,
    pub state_hash: B256,
    /// `Engine::encode_state` bytes.
    pub state: Vec<u8>,
}

impl Snapshot {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(SNAPSHOT_VERSION).u64(self.seq);
        e.buf.extend_from_slice(self.state_hash.as_slice());
        e.u32(self.state.len() as u32);
        e.buf.extend_from_slice(&self.state);
        seal_crc(e.buf)
    }

    pub fn decode(bytes: &[u8]) -> Result<Snapshot, Damage> {
        let body = checked_body(bytes)?;
        let m = |e: granary_engine::EngineError| Damage::Malformed(e.to_string());
        let mut d = Decoder::new(body);
        let version = d.u8().map_err(m)?;
        if version != SNAPSHOT_VERSION {
            return Err(Damage::UnknownVersion(version));
        }
        let seq = d.u64().map_err(m)?;
        let mut h = [0u8; 32];
        for b in h.iter_mut() {
            *b = d.u8().map_err(m)?;
        }
        let len = d.u32().map_err(m)? as usize;
        let rest = &body[body.len().saturating_sub(len)..];
        if body.len() != 1 + 8 + 32 + 4 + len {
            return Err(Damage::Truncated);
        }
        Ok(Snapshot { seq, state_hash: B256::from(h), state: rest.to_vec() })
    }
}
