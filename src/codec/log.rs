//! RL.LOG's stored value: a compact binary log in one Redis string.
//!
//! ```text
//! "L:" | entry entry ... | header (5 x u64 little-endian, 40 bytes)
//! entry  = varint(ms since the previous entry) varint(units)
//! header = head offset, head time, total units from head, last offset, last time
//! ```
//!
//! Why this shape: a request costs 2-4 bytes (a sorted set costs ~119), requests in the same
//! millisecond merge into one entry, and the header sits at the end, so one admission is one
//! `SETRANGE` at the old header's offset (new entry + new header): O(1) to apply and to
//! replicate, whatever the log's length. Entries that left the window are skipped by moving
//! the head offset; once the dead prefix outweighs the live part, the value is rewritten
//! compacted with one `SET ... PXAT` (amortised O(1) per request).

use super::varint;
use super::{foreign, Buf, StateError, Write};
use crate::algo::log::{Entry, LogChange, LogSummary};
use crate::algo::Millis;
use crate::command::Command;

const MAGIC: &[u8] = b"L:";
const HEADER: usize = 40;
/// Compact once at least this many dead bytes outweigh the live ones.
const COMPACT_MIN_DEAD: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    head_off: usize,
    head_time: Millis,
    total_units: u64,
    last_off: usize,
    last_time: Millis,
}

impl Header {
    fn encode(&self) -> [u8; HEADER] {
        let mut out = [0u8; HEADER];
        let fields = [self.head_off as u64, self.head_time, self.total_units, self.last_off as u64, self.last_time];
        for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// A stored log, read in place.
#[derive(Debug, Clone, Copy)]
pub struct LogView<'a> {
    bytes: &'a [u8],
    header: Header,
    entries_end: usize,
}

impl<'a> LogView<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, StateError> {
        if !bytes.starts_with(MAGIC) {
            return Err(foreign(bytes, Command::Log));
        }
        let entries_end = bytes.len().checked_sub(HEADER).filter(|e| *e > MAGIC.len()).ok_or(StateError::Unreadable)?;
        let mut words = bytes.get(entries_end..).unwrap_or_default().chunks_exact(8).map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        });
        let mut word = || words.next().ok_or(StateError::Unreadable);
        let offset = |v: u64| usize::try_from(v).map_err(|_| StateError::Unreadable);
        let header =
            Header { head_off: offset(word()?)?, head_time: word()?, total_units: word()?, last_off: offset(word()?)?, last_time: word()? };
        let in_order = MAGIC.len() <= header.head_off && header.head_off <= header.last_off && header.last_off < entries_end;
        if !in_order || header.head_time > header.last_time {
            return Err(StateError::Unreadable);
        }
        if header.last_time > i64::MAX as u64 || header.total_units > i64::MAX as u64 {
            return Err(StateError::OutOfRange);
        }
        // Every write leaves the last entry right before the header: anything else is damage
        // (and a merge into that entry would leave stray bytes behind).
        let mut end_of_last = header.last_off;
        let last_ok = varint::read_u64(bytes, &mut end_of_last, entries_end).is_some()
            && varint::read_u64(bytes, &mut end_of_last, entries_end).is_some();
        if !last_ok || end_of_last != entries_end {
            return Err(StateError::Unreadable);
        }
        Ok(LogView { bytes, header, entries_end })
    }

    pub fn summary(&self, expire_at: Option<Millis>) -> LogSummary {
        LogSummary { total_units: self.header.total_units, newest: Some(self.header.last_time), expire_at }
    }

    /// The entries from the head, oldest first.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            bytes: self.bytes,
            off: self.header.head_off,
            end: self.entries_end,
            time: self.header.head_time,
            first: true,
            yielded: 0,
            last: None,
        }
    }
}

/// Walks entries, yielding each with its offset; stops after the first damaged one.
pub struct Entries<'a> {
    bytes: &'a [u8],
    off: usize,
    end: usize,
    time: Millis,
    first: bool,
    /// Entries yielded so far, and the last of them with its offset: where a decision that
    /// stopped at the first live entry left the walk, so that the write need not walk again.
    yielded: usize,
    last: Option<(usize, Entry)>,
}

impl<'a> Entries<'a> {
    /// The entries of a missing log: none.
    pub fn empty() -> Entries<'a> {
        Entries { bytes: &[], off: 0, end: 0, time: 0, first: true, yielded: 0, last: None }
    }

    fn next_at(&mut self) -> Option<Result<(usize, Entry), StateError>> {
        if self.off >= self.end {
            return None;
        }
        let start = self.off;
        let entry = (|| {
            let delta = varint::read_u64(self.bytes, &mut self.off, self.end)?;
            let units = varint::read_u64(self.bytes, &mut self.off, self.end)?;
            // The head's own delta points at a dropped entry: its time is the header's.
            if !self.first {
                self.time = self.time.checked_add(delta)?;
            }
            self.first = false;
            Some(Entry { at: self.time, units })
        })();
        match entry {
            Some(e) => {
                self.yielded += 1;
                self.last = Some((start, e));
                Some(Ok((start, e)))
            }
            None => {
                self.off = self.end;
                Some(Err(StateError::Unreadable))
            }
        }
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_at().map(|r| r.map(|(_, e)| e))
    }
}

/// The value of a log holding one entry.
fn fresh(append: Entry) -> Buf {
    let mut buf = Buf::default();
    buf.extend(MAGIC);
    varint::push(&mut buf, 0);
    varint::push(&mut buf, append.units.into());
    let header =
        Header { head_off: MAGIC.len(), head_time: append.at, total_units: append.units, last_off: MAGIC.len(), last_time: append.at };
    buf.extend(&header.encode());
    buf
}

/// The whole log rewritten from `entries` (oldest first, at least one), expiring at
/// `expire_at`: what a REFUND leaves. One `SET ... PXAT`.
pub fn rebuild(entries: &[Entry], expire_at: Millis) -> Write {
    let mut bytes = Buf::default();
    bytes.extend(MAGIC);
    let (mut previous, mut last_off, mut total) = (entries.first().map_or(0, |e| e.at), MAGIC.len(), 0u64);
    for e in entries {
        last_off = bytes.as_slice().len();
        varint::push(&mut bytes, e.at.saturating_sub(previous).into());
        varint::push(&mut bytes, e.units.into());
        previous = e.at;
        total = total.saturating_add(e.units);
    }
    let header =
        Header { head_off: MAGIC.len(), head_time: entries.first().map_or(0, |e| e.at), total_units: total, last_off, last_time: previous };
    bytes.extend(&header.encode());
    Write::Value { bytes, expire_at }
}

/// The write that applies `change` to the stored log (None: the key is missing). `decided` is
/// the walk the decision made over this log's entries, if any.
pub fn write(view: Option<&LogView<'_>>, change: &LogChange, decided: Option<&Entries<'_>>) -> Result<Write, StateError> {
    let Some(view) = view else {
        return Ok(Write::Value { bytes: fresh(change.append), expire_at: change.expire_at });
    };
    let h = view.header;

    // The new head: the first entry past the expired ones (None: all expired). A decision
    // that stopped right at it already knows where it is.
    let new_head = match decided {
        // Once anything was yielded, `last` holds it.
        Some(walk) if walk.yielded == change.expired_entries + 1 => walk.last,
        _ => {
            let mut walk = view.entries();
            for _ in 0..change.expired_entries {
                walk.next_at().transpose()?;
            }
            walk.next_at().transpose()?
        }
    };

    // Requests in the same millisecond as the last entry merge into it.
    let merge = change.append.at == h.last_time && new_head.is_some();
    let (write_at, entry) = if merge {
        let mut at = h.last_off;
        let delta = varint::read_u64(view.bytes, &mut at, view.entries_end).ok_or(StateError::Unreadable)?;
        let units = varint::read_u64(view.bytes, &mut at, view.entries_end).ok_or(StateError::Unreadable)?;
        let mut entry = Buf::default();
        varint::push(&mut entry, delta.into());
        varint::push(&mut entry, units.saturating_add(change.append.units).into());
        (h.last_off, entry)
    } else {
        let mut entry = Buf::default();
        varint::push(&mut entry, change.append.at.saturating_sub(h.last_time).into());
        varint::push(&mut entry, change.append.units.into());
        (view.entries_end, entry)
    };
    let (head_off, head_time) = new_head.map_or((write_at, change.append.at), |(off, e)| (off, e.at));
    let header = Header {
        head_off,
        head_time,
        total_units: h.total_units.saturating_sub(change.expired_units).saturating_add(change.append.units),
        last_off: write_at,
        last_time: change.append.at,
    };

    let dead = head_off - MAGIC.len();
    let live = write_at - head_off + entry.as_slice().len();
    if dead >= COMPACT_MIN_DEAD && dead >= live {
        // Rewrite without the dead prefix: offsets shift down by `dead`.
        let mut bytes = Buf::Heap(Vec::with_capacity(MAGIC.len() + live + HEADER));
        bytes.extend(MAGIC);
        bytes.extend(view.bytes.get(head_off..write_at).unwrap_or_default());
        bytes.extend(entry.as_slice());
        let header = Header { head_off: MAGIC.len(), last_off: write_at - dead, ..header };
        bytes.extend(&header.encode());
        return Ok(Write::Value { bytes, expire_at: change.expire_at });
    }
    let mut bytes = entry;
    bytes.extend(&header.encode());
    Ok(Write::Range { offset: write_at, bytes, expire_at: change.expire_moves.then_some(change.expire_at) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::fixed::WindowParams;
    use crate::algo::log::decide;
    use crate::algo::testkit::Rng;
    use crate::algo::{Reply, Request};
    use crate::testing::RedisKey;

    /// A Redis string key as SET / SETRANGE / PEXPIREAT leave it.
    #[derive(Debug, Clone, Default)]
    struct SimString {
        key: RedisKey,
    }

    impl SimString {
        fn call(&mut self, now: Millis, p: WindowParams, cost: u64, peek: bool) -> Reply {
            let value = self.key.found(now).and_then(|f| f.live_at(now)).map(|f| (f.bytes.to_vec(), f.expire_at));
            let view = value.as_ref().map(|(b, _)| LogView::parse(b).unwrap());
            let summary = view.as_ref().map_or(LogSummary::default(), |v| v.summary(value.as_ref().and_then(|x| x.1)));
            let mut walk = view.as_ref().map_or_else(Entries::empty, |v| v.entries());
            let d = decide(&mut walk, summary, now, p, Request::take(cost, peek)).unwrap();
            if let Some(change) = d.change {
                let w = write(view.as_ref(), &change, Some(&walk)).unwrap();
                // Reusing the decision's walk gives exactly the write a fresh walk gives.
                assert_eq!(w, write(view.as_ref(), &change, None).unwrap());
                self.key.apply(&w);
            }
            d.reply
        }
    }

    #[test]
    fn one_admission_is_one_setrange_of_entry_and_header() {
        let p = WindowParams { limit: 100, window: 1000 };
        let mut key = SimString::default();
        key.call(1_000_000, p, 1, false);
        let len = key.key.0.as_ref().unwrap().0.len();
        assert_eq!(len, 2 + 2 + HEADER);
        let view_bytes = key.key.0.clone().unwrap().0;
        let view = LogView::parse(&view_bytes).unwrap();
        let d = decide(view.entries(), view.summary(Some(1_002_000)), 1_000_005, p, Request::take(2, false)).unwrap();
        let w = write(Some(&view), &d.change.unwrap(), None).unwrap();
        match w {
            Write::Range { offset, bytes, expire_at } => {
                assert_eq!(offset, len - HEADER);
                assert_eq!(bytes.as_slice().len(), 2 + HEADER);
                assert_eq!(expire_at, None);
            }
            other => panic!("expected SETRANGE, got {other:?}"),
        }
    }

    #[test]
    fn same_millisecond_requests_merge() {
        let p = WindowParams { limit: 1000, window: 1000 };
        let mut key = SimString::default();
        for _ in 0..500 {
            key.call(7, p, 1, false);
        }
        assert_eq!(key.key.0.as_ref().unwrap().0.len(), 2 + 1 + 2 + HEADER);
        assert_eq!(key.call(7, p, 1, true).remaining, 500);
    }

    #[test]
    fn a_thousand_requests_take_a_few_bytes_each() {
        let p = WindowParams { limit: 1000, window: 60_000 };
        let mut key = SimString::default();
        for i in 0..1000 {
            assert!(key.call(1_700_000_000_000 + i * 37, p, 1, false).allowed);
        }
        let len = key.key.0.as_ref().unwrap().0.len();
        assert!(len <= 2 + 1000 * 2 + HEADER, "{len} bytes");
    }

    #[test]
    fn damaged_logs_are_errors_not_panics() {
        let good = fresh(Entry { at: 5, units: 3 });
        let good = good.as_slice();
        assert!(LogView::parse(good).is_ok());
        assert_eq!(LogView::parse(b"L:").err(), Some(StateError::Unreadable));
        assert_eq!(LogView::parse(b"12").err(), Some(StateError::OtherCommand(Command::Fixed)));
        assert_eq!(LogView::parse(&good[..good.len() - 1]).err(), Some(StateError::Unreadable));
        let mut rng = Rng::new(0xBAD);
        for _ in 0..20_000 {
            let mut bytes = good.to_vec();
            for _ in 0..rng.range(1, 4) {
                let i = rng.range(0, bytes.len() as u64 - 1) as usize;
                bytes[i] = rng.next_u64() as u8;
            }
            if rng.chance(3) {
                bytes.truncate(rng.range(0, bytes.len() as u64) as usize);
            }
            if let Ok(view) = LogView::parse(&bytes) {
                let p = WindowParams { limit: rng.range(1, 10), window: rng.range(1, 100) };
                let req = Request::take(rng.range(1, 10), rng.chance(2));
                if let Ok(d) = decide(view.entries(), view.summary(None), rng.range(0, 200), p, req) {
                    if let Some(c) = d.change {
                        let _ = write(Some(&view), &c, None);
                    }
                }
            }
        }
    }

    /// Property: the log stored as bytes and changed only by SET / SETRANGE / PEXPIREAT
    /// answers exactly as the reference log kept as a vector.
    #[test]
    fn property_bytes_behave_like_the_reference_log() {
        let mut rng = Rng::new(0x1065);
        for _case in 0..300 {
            let p = WindowParams { limit: rng.range(1, 50), window: rng.range(1, 400) };
            let mut key = SimString::default();
            let mut model: Vec<Entry> = Vec::new();
            let mut model_expire: Option<Millis> = None;
            let mut now = rng.range(0, 1 << 40);
            for _step in 0..300 {
                now = rng.advance(now, p.window * 2);
                let cost = rng.range(1, p.limit / 2 + 1);
                let peek = rng.chance(10);
                if model_expire.is_some_and(|at| at <= now) {
                    model.clear();
                    model_expire = None;
                }
                let summary = LogSummary {
                    total_units: model.iter().map(|e| e.units).sum(),
                    newest: model.last().map(|e| e.at),
                    expire_at: model_expire,
                };
                let d = decide(model.iter().map(|e| Ok::<_, StateError>(*e)), summary, now, p, Request::take(cost, peek)).unwrap();
                if let Some(c) = d.change {
                    model.drain(..c.expired_entries);
                    model.push(c.append);
                    model_expire = Some(c.expire_at);
                }
                let got = key.call(now, p, cost, peek);
                assert_eq!(got, d.reply);
                assert_eq!(key.key.live_expiry(now).flatten(), model_expire);
            }
        }
    }
}
