//! Stored formats: each algorithm's state as the bytes of a plain Redis string, and the
//! writes that change them. Pure: bytes in, state out; state in, bytes and writes out.
//!
//! Every format is told apart from every other by its first bytes, so one key used with two
//! RL commands is an error, never a silent reinterpretation:
//! RL.FIXED is a bare decimal count (so `GET` shows it); RL.SLIDING starts with the byte 0x01
//! RL.TOKEN with 0x02 and RL.LEAKY with 0x03 (compact binary: varints), RL.LOG with `L:` (binary entries). No
//! hand-written text starts with a control byte.

pub mod fixed;
pub mod leaky;
pub mod leases;
pub mod log;
pub mod sliding;
pub mod tat;
pub mod text;
pub mod token;
pub mod varint;

use crate::algo::concurrent::LeaseChange;
use crate::algo::Millis;
use crate::command::Command;

/// Which RL command wrote `bytes`, judging by their first bytes (None: none did).
pub fn owner(bytes: &[u8]) -> Option<Command> {
    match bytes {
        [sliding::TAG, ..] => Some(Command::Sliding),
        [token::TAG, ..] => Some(Command::Token),
        [leaky::TAG, ..] => Some(Command::Leaky),
        [b'L', b':', ..] => Some(Command::Log),
        [b'-' | b'0'..=b'9', ..] if bytes.iter().skip(1).all(u8::is_ascii_digit) => Some(Command::Fixed),
        _ => None,
    }
}

/// Why a stored value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// It is another RL command's state.
    OtherCommand(Command),
    /// It is nobody's state (written by hand, or damaged).
    Unreadable,
    /// It has this command's shape, but a number out of range (a negative count).
    OutOfRange,
    /// A sorted set with a score that is not a lease's expiry (a leaderboard, a set written by
    /// hand).
    NotLeases,
}

impl From<crate::algo::log::Damaged> for StateError {
    fn from(_: crate::algo::log::Damaged) -> Self {
        StateError::Unreadable
    }
}

/// The error for bytes that are not `expected`'s state.
pub fn foreign(bytes: &[u8], expected: Command) -> StateError {
    match owner(bytes) {
        Some(kind) if kind != expected => StateError::OtherCommand(kind),
        _ => StateError::Unreadable,
    }
}

/// A change to one key, to apply locally and to replicate as native commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// `SET key bytes PXAT expire_at`: the whole value and its expiry.
    Value { bytes: Buf, expire_at: Millis },
    /// `SETRANGE key offset bytes` (never shortens the value), then `PEXPIREAT key t` when the
    /// expiry moves.
    Range { offset: usize, bytes: Buf, expire_at: Option<Millis> },
    /// RL.CONCURRENT's sorted set (`leases`): `ZREMRANGEBYSCORE key -inf t` for the expired
    /// leases, `ZADD key t id` or `ZREM key id` for the holder's, then `PEXPIREAT key t` when
    /// the key's expiry moves.
    Leases { id: Buf, change: LeaseChange },
}

/// Bytes to write: inline for the short values of the hot path, on the heap for rare large
/// ones (a compacted log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buf {
    Inline { data: [u8; INLINE], len: usize },
    Heap(Vec<u8>),
}

/// The longest hot-path value: a tag and four 10-byte varints (41), or a log entry and its
/// 40-byte header (at most 60); anything longer spills to the heap.
const INLINE: usize = 64;

impl Default for Buf {
    fn default() -> Self {
        Buf::Inline { data: [0; INLINE], len: 0 }
    }
}

impl Buf {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Buf::Inline { data, len } => data.get(..*len).unwrap_or_default(),
            Buf::Heap(v) => v,
        }
    }

    /// `n` writable bytes appended at the end (zeroed on the heap path).
    pub fn append_slot(&mut self, n: usize) -> &mut [u8] {
        // Spill to the heap first if the inline room is too small.
        if let Buf::Inline { data, len } = self {
            if *len + n > INLINE {
                let mut v = Vec::with_capacity(*len + n + 64);
                v.extend_from_slice(data.get(..*len).unwrap_or_default());
                *self = Buf::Heap(v);
            }
        }
        match self {
            Buf::Inline { data, len } => {
                let start = *len;
                *len += n;
                data.get_mut(start..start + n).unwrap_or_default()
            }
            Buf::Heap(v) => {
                let start = v.len();
                v.resize(start + n, 0);
                v.get_mut(start..).unwrap_or_default()
            }
        }
    }

    #[inline]
    pub fn push(&mut self, byte: u8) {
        if let Buf::Inline { data, len } = self {
            if let Some(slot) = data.get_mut(*len) {
                *slot = byte;
                *len += 1;
                return;
            }
        }
        if let Some(slot) = self.append_slot(1).first_mut() {
            *slot = byte;
        }
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        match self {
            Buf::Inline { data, len } => match data.get_mut(*len..*len + bytes.len()) {
                Some(room) => {
                    room.copy_from_slice(bytes);
                    *len += bytes.len();
                }
                None => {
                    let mut v = Vec::with_capacity(*len + bytes.len() + 64);
                    v.extend_from_slice(data.get(..*len).unwrap_or_default());
                    v.extend_from_slice(bytes);
                    *self = Buf::Heap(v);
                }
            },
            Buf::Heap(v) => v.extend_from_slice(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_told_apart() {
        assert_eq!(owner(b"12"), Some(Command::Fixed));
        assert_eq!(owner(b"-3"), Some(Command::Fixed));
        assert_eq!(owner(b"\x01\x10\x00\x01\x02"), Some(Command::Sliding));
        assert_eq!(owner(b"\x02\x10\x00\x05"), Some(Command::Token));
        assert_eq!(owner(b"S:1000:0:1:2"), None);
        assert_eq!(owner(b"L:\x00"), Some(Command::Log));
        assert_eq!(owner(b""), None);
        assert_eq!(owner(b"1a"), None);
        assert_eq!(owner(b"hello"), None);
    }

    #[test]
    fn buf_spills_to_the_heap_when_full() {
        let mut b = Buf::default();
        b.extend(&[1; 100]);
        b.extend(&[2; 100]);
        assert_eq!(b.as_slice().len(), 200);
        assert_eq!(b.as_slice()[99..101], [1, 2]);
    }
}
