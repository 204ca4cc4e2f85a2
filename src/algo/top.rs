//! RL.TOP's memory: which keys were refused most over about the last minute, in fixed space.
//!
//! One [`Summary`] is a Space-Saving summary (Metwally, Agrawal, El Abbadi, 2005) of
//! [`SLOTS`] counters: a refusal of a tracked key adds 1 to its counter; of an untracked key,
//! it takes a free counter, or, when all are taken, the smallest one: the evicted key's count
//! becomes the newcomer's `overcount` and its count that plus 1. So for every tracked key
//! `count - overcount <= true refusals <= count`, and every untracked key was refused at most
//! `min_count` times (the smallest counter, 0 while a counter is free): a key refused more
//! than `total / SLOTS` times is always tracked.
//!
//! [`Top`] keeps two summaries, the current minute's and the previous one's (minutes of the
//! server clock, aligned to the Unix epoch), and answers their sum: refusals seen since the
//! start of the previous minute (60 to 120 seconds of history), so older refusals fade out. A
//! key a summary does not track is counted there at that summary's `min_count`, added to both
//! its refusals and its overcount, so the bound holds for the sum:
//! `refusals - overcount <= true refusals (both minutes) <= refusals`.
//!
//! Space is fixed: keys are kept in place, at most [`KEY_BYTES`] bytes each (a longer key is
//! tracked by its first `KEY_BYTES` bytes, shown with [`TRUNCATED`] after them, so all keys
//! sharing that start count as one), found through an open-addressing index, and the counters
//! form a min-heap: a refusal costs one hash of at most `KEY_BYTES` bytes, a probe, and a
//! sift of at most log2(SLOTS) = 8 steps. Nothing is allocated after construction, and an
//! empty summary is all zeroes (a static of it costs no file space).

use super::Millis;

/// Counters per summary (two summaries: the current and the previous minute).
pub const SLOTS: usize = 256;
/// The bytes of a key that are kept; longer keys are tracked by their first `KEY_BYTES`.
pub const KEY_BYTES: usize = 128;
/// What follows a key cut at `KEY_BYTES` in the reply: its shown form is `KEY_BYTES + 3`
/// bytes long, so it cannot be mistaken for a key kept whole (at most `KEY_BYTES`).
pub const TRUNCATED: &[u8] = b"...";
/// The length of a summary's minute, in ms of the server clock.
pub const PERIOD_MS: Millis = 60_000;
/// Entries in the index: a power of two, twice the slots, so probes stay short.
const INDEX: usize = 2 * SLOTS;

/// One counter: a key, its count and its overcount.
#[derive(Clone, Copy)]
struct Slot {
    key: [u8; KEY_BYTES],
    len: u8,
    truncated: bool,
    hash: u64,
    count: u64,
    overcount: u64,
    /// Its position in the heap.
    at: u16,
}

impl Slot {
    const EMPTY: Slot = Slot { key: [0; KEY_BYTES], len: 0, truncated: false, hash: 0, count: 0, overcount: 0, at: 0 };

    fn key(&self) -> &[u8] {
        self.key.get(..usize::from(self.len)).unwrap_or_default()
    }

    fn is(&self, hash: u64, key: &[u8], truncated: bool) -> bool {
        self.hash == hash && self.truncated == truncated && self.key() == key
    }
}

/// A key as a summary tracks it: at most `KEY_BYTES` bytes, and whether it was cut.
fn tracked_form(key: &[u8]) -> (&[u8], bool) {
    match key.get(..KEY_BYTES) {
        Some(start) if key.len() > KEY_BYTES => (start, true),
        _ => (key, false),
    }
}

/// A multiply-rotate hash over the kept bytes, eight at a time, and the cut flag (FNV's
/// constants; byte-at-a-time FNV costs ~1.5 ns a byte). Clients choose key names, so they
/// could make keys collide in the index: a probe then walks further, but never more than
/// `INDEX` entries.
fn hash_of(key: &[u8], truncated: bool) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (key.len() as u64) ^ (u64::from(truncated) << 63);
    let mut words = key.chunks_exact(8);
    for word in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(bytes)).wrapping_mul(PRIME).rotate_left(29);
    }
    let mut last = [0u8; 8];
    for (slot, b) in last.iter_mut().zip(words.remainder()) {
        *slot = *b;
    }
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(PRIME);
    // Mix the high bits down: the index uses the low ones.
    h ^= h >> 32;
    h.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (h >> 29)
}

/// The index position a hash starts probing at.
fn home(hash: u64) -> usize {
    (hash as usize) & (INDEX - 1)
}

/// One Space-Saving summary of `SLOTS` counters.
#[derive(Clone)]
pub struct Summary {
    slots: [Slot; SLOTS],
    /// Slots in use: `slots[..used]`.
    used: usize,
    /// A min-heap of slot numbers by count: `heap[..used]`.
    heap: [u16; SLOTS],
    /// Open addressing with linear probing: 0 is empty, else slot number + 1.
    index: [u16; INDEX],
    /// Refusals recorded.
    total: u64,
}

/// Where a key is, or where it would go.
enum Probe {
    Found(usize),
    Free(usize),
    /// The index is full (never: it has twice the slots).
    Full,
}

impl Summary {
    pub const fn new() -> Summary {
        Summary { slots: [Slot::EMPTY; SLOTS], used: 0, heap: [0; SLOTS], index: [0; INDEX], total: 0 }
    }

    /// Forgets everything (the slots' old bytes stay, unreachable).
    pub fn clear(&mut self) {
        self.used = 0;
        self.total = 0;
        self.index = [0; INDEX];
    }

    /// Refusals recorded since the last clear.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The most any untracked key was refused: the smallest counter once all are taken, else 0.
    pub fn min_count(&self) -> u64 {
        if self.used < SLOTS {
            return 0;
        }
        self.heap.first().and_then(|s| self.slots.get(usize::from(*s))).map_or(0, |s| s.count)
    }

    /// The tracked keys: `(key, cut, count, overcount)`.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], bool, u64, u64)> {
        self.slots.iter().take(self.used).map(|s| (s.key(), s.truncated, s.count, s.overcount))
    }

    /// The count and overcount of `key` (as tracked: cut or not), if tracked.
    pub fn get(&self, key: &[u8], truncated: bool) -> Option<(u64, u64)> {
        match self.probe(hash_of(key, truncated), key, truncated) {
            Probe::Found(slot) => self.slots.get(slot).map(|s| (s.count, s.overcount)),
            _ => None,
        }
    }

    /// One refusal of `key`.
    pub fn record(&mut self, key: &[u8]) {
        let (key, truncated) = tracked_form(key);
        let hash = hash_of(key, truncated);
        self.total = self.total.saturating_add(1);
        match self.probe(hash, key, truncated) {
            Probe::Found(slot) => {
                if let Some(s) = self.slots.get_mut(slot) {
                    s.count = s.count.saturating_add(1);
                    let at = usize::from(s.at);
                    self.sift_down(at);
                }
            }
            Probe::Free(position) if self.used < SLOTS => {
                let slot = self.used;
                self.used += 1;
                self.fill(slot, key, truncated, hash, 0);
                self.set_index(position, slot);
                self.set_heap(slot, slot);
                self.sift_up(slot);
            }
            Probe::Free(_) | Probe::Full => {
                // Every counter is taken: the smallest one goes to the newcomer.
                let Some(&root) = self.heap.first() else { return };
                let slot = usize::from(root);
                let Some(evicted) = self.slots.get(slot).copied() else { return };
                self.unindex(evicted.hash, slot);
                let Probe::Free(position) = self.probe(hash, key, truncated) else { return };
                self.fill(slot, key, truncated, hash, evicted.count);
                self.set_index(position, slot);
                self.sift_down(0);
            }
        }
    }

    fn fill(&mut self, slot: usize, key: &[u8], truncated: bool, hash: u64, overcount: u64) {
        let Some(s) = self.slots.get_mut(slot) else { return };
        let len = key.len().min(KEY_BYTES);
        if let (Some(dst), Some(src)) = (s.key.get_mut(..len), key.get(..len)) {
            dst.copy_from_slice(src);
        }
        s.len = len as u8;
        s.truncated = truncated;
        s.hash = hash;
        s.overcount = overcount;
        s.count = overcount.saturating_add(1);
    }

    fn probe(&self, hash: u64, key: &[u8], truncated: bool) -> Probe {
        let start = home(hash);
        for step in 0..INDEX {
            let position = (start + step) & (INDEX - 1);
            match self.index.get(position).copied() {
                Some(0) | None => return Probe::Free(position),
                Some(entry) => {
                    let slot = usize::from(entry - 1);
                    if self.slots.get(slot).is_some_and(|s| s.is(hash, key, truncated)) {
                        return Probe::Found(slot);
                    }
                }
            }
        }
        Probe::Full
    }

    fn set_index(&mut self, position: usize, slot: usize) {
        if let Some(e) = self.index.get_mut(position) {
            *e = slot as u16 + 1;
        }
    }

    /// Removes `slot` (whose key hashes to `hash`) from the index, shifting back the entries
    /// after it that probed past it, so no lookup stops early at the hole.
    fn unindex(&mut self, hash: u64, slot: usize) {
        let mut hole = home(hash);
        let found = (0..INDEX).any(|_| {
            let hit = self.index.get(hole).copied() == Some(slot as u16 + 1);
            if !hit {
                hole = (hole + 1) & (INDEX - 1);
            }
            hit
        });
        if !found {
            return;
        }
        let mut next = hole;
        loop {
            next = (next + 1) & (INDEX - 1);
            let entry = self.index.get(next).copied().unwrap_or(0);
            if entry == 0 || next == hole {
                break;
            }
            let entry_home = self.slots.get(usize::from(entry - 1)).map_or(next, |s| home(s.hash));
            // The entry may move to the hole if its home is not in (hole, next] cyclically.
            let distance_to_next = next.wrapping_sub(entry_home) & (INDEX - 1);
            let distance_to_hole = hole.wrapping_sub(entry_home) & (INDEX - 1);
            if distance_to_hole < distance_to_next {
                if let Some(e) = self.index.get_mut(hole) {
                    *e = entry;
                }
                hole = next;
            }
        }
        if let Some(e) = self.index.get_mut(hole) {
            *e = 0;
        }
    }

    fn count_at(&self, heap_position: usize) -> u64 {
        self.heap.get(heap_position).and_then(|s| self.slots.get(usize::from(*s))).map_or(0, |s| s.count)
    }

    fn set_heap(&mut self, heap_position: usize, slot: usize) {
        if let Some(h) = self.heap.get_mut(heap_position) {
            *h = slot as u16;
        }
        if let Some(s) = self.slots.get_mut(slot) {
            s.at = heap_position as u16;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        let (Some(&slot_a), Some(&slot_b)) = (self.heap.get(a), self.heap.get(b)) else { return };
        self.set_heap(a, usize::from(slot_b));
        self.set_heap(b, usize::from(slot_a));
    }

    fn sift_up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.count_at(parent) <= self.count_at(at) {
                break;
            }
            self.swap(parent, at);
            at = parent;
        }
    }

    fn sift_down(&mut self, mut at: usize) {
        loop {
            let (left, right) = (2 * at + 1, 2 * at + 2);
            let mut smallest = at;
            if left < self.used && self.count_at(left) < self.count_at(smallest) {
                smallest = left;
            }
            if right < self.used && self.count_at(right) < self.count_at(smallest) {
                smallest = right;
            }
            if smallest == at {
                return;
            }
            self.swap(at, smallest);
            at = smallest;
        }
    }
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new()
    }
}

/// One line of RL.TOP's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, or its first `KEY_BYTES` bytes followed by `TRUNCATED`.
    pub key: Vec<u8>,
    /// At least the key's true refusals in the current and previous minute.
    pub refusals: u64,
    /// How much `refusals` may exceed the truth: `refusals - overcount <= true <= refusals`.
    pub overcount: u64,
}

/// The most entries one RL.TOP call returns.
pub const MAX_COUNT: usize = 100;

/// The current minute's summary and the previous one's.
#[derive(Clone)]
pub struct Top {
    current: Summary,
    previous: Summary,
    /// The minute (`now / PERIOD_MS`) `current` counts.
    minute: u64,
}

impl Top {
    pub const fn new() -> Top {
        Top { current: Summary::new(), previous: Summary::new(), minute: 0 }
    }

    /// Moves to the minute of `now`: a minute later, the current summary becomes the
    /// previous one; two or more, both are forgotten. A clock that steps back keeps counting
    /// in the current minute (it never brings old counts back).
    fn rotate(&mut self, now: Millis) {
        let minute = now / PERIOD_MS;
        if minute <= self.minute {
            return;
        }
        if minute == self.minute.saturating_add(1) {
            std::mem::swap(&mut self.current, &mut self.previous);
        } else {
            self.previous.clear();
        }
        self.current.clear();
        self.minute = minute;
    }

    /// One refusal of `key` at `now`.
    pub fn record(&mut self, key: &[u8], now: Millis) {
        self.rotate(now);
        self.current.record(key);
    }

    /// Forgets every key.
    pub fn reset(&mut self) {
        self.current.clear();
        self.previous.clear();
    }

    /// The `count` keys refused most since the start of the previous minute, most refused
    /// first (ties: the larger guaranteed count, then the key's bytes).
    pub fn top(&mut self, count: usize, now: Millis) -> Vec<Entry> {
        self.rotate(now);
        let (current_min, previous_min) = (self.current.min_count(), self.previous.min_count());
        // (refusals, overcount, key, cut): a key missing from one summary is counted there at
        // that summary's min_count, which its true count there cannot exceed.
        let mut lines: Vec<(u64, u64, &[u8], bool)> = Vec::with_capacity(2 * SLOTS);
        for (key, cut, count, over) in self.current.entries() {
            let (p_count, p_over) = self.previous.get(key, cut).unwrap_or((previous_min, previous_min));
            lines.push((count.saturating_add(p_count), over.saturating_add(p_over), key, cut));
        }
        for (key, cut, count, over) in self.previous.entries() {
            if self.current.get(key, cut).is_none() {
                lines.push((count.saturating_add(current_min), over.saturating_add(current_min), key, cut));
            }
        }
        lines.sort_unstable_by(|a, b| b.0.cmp(&a.0).then((b.0 - b.1).cmp(&(a.0 - a.1))).then(a.2.cmp(b.2)).then(a.3.cmp(&b.3)));
        lines
            .into_iter()
            .take(count.min(MAX_COUNT))
            .map(|(refusals, overcount, key, cut)| {
                let mut shown = key.to_vec();
                if cut {
                    shown.extend_from_slice(TRUNCATED);
                }
                Entry { key: shown, refusals, overcount }
            })
            .collect()
    }
}

impl Default for Top {
    fn default() -> Self {
        Top::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Rng;
    use super::*;
    use std::collections::HashMap;

    /// The exact counts of keys in their tracked form (cut at KEY_BYTES, as the reply shows).
    fn shown(key: &[u8]) -> Vec<u8> {
        let (k, cut) = tracked_form(key);
        let mut v = k.to_vec();
        if cut {
            v.extend_from_slice(TRUNCATED);
        }
        v
    }

    /// Checks every reported entry against exact counts and the answer's order, and that no
    /// key is left out that the summaries must have kept: a key refused more than both
    /// summaries' smallest counters is tracked, so it is listed unless `MAX_COUNT` lines claim
    /// at least as many refusals as it truly had.
    fn check(top: &mut Top, exact: &HashMap<Vec<u8>, u64>, now: Millis, what: &str) {
        let answer = top.top(MAX_COUNT, now);
        for e in &answer {
            let truth = exact.get(&e.key).copied().unwrap_or(0);
            assert!(e.refusals >= truth && e.refusals - e.overcount <= truth, "{what}: {:?} claims {e:?}, true {truth}", e.key);
        }
        assert!(answer.windows(2).all(|w| w[0].refusals >= w[1].refusals), "{what}: not most refused first");
        let bound = top.current.min_count() + top.previous.min_count();
        for (key, truth) in exact {
            if *truth > bound && !answer.iter().any(|e| &e.key == key) {
                assert!(
                    answer.len() == MAX_COUNT && answer.iter().all(|e| e.refusals >= *truth),
                    "{what}: {key:?} (true {truth} > bound {bound}) missing from {} lines",
                    answer.len()
                );
            }
        }
        if exact.len() <= SLOTS {
            // No summary ever had to evict: the answer is exact.
            assert_eq!(answer.len(), exact.len().min(MAX_COUNT), "{what}");
            assert!(answer.iter().all(|e| e.overcount == 0 && e.refusals == exact[&e.key]), "{what}");
        }
    }

    /// The exact model: refusals per minute, summed over the current and previous minute.
    struct Exact {
        minutes: HashMap<u64, HashMap<Vec<u8>, u64>>,
    }

    impl Exact {
        fn record(&mut self, key: &[u8], minute: u64) {
            *self.minutes.entry(minute).or_default().entry(shown(key)).or_default() += 1;
        }
        fn window(&self, minute: u64) -> HashMap<Vec<u8>, u64> {
            let mut sum: HashMap<Vec<u8>, u64> = HashMap::new();
            for m in [minute.checked_sub(1), Some(minute)].into_iter().flatten() {
                for (k, v) in self.minutes.get(&m).into_iter().flatten() {
                    *sum.entry(k.clone()).or_default() += v;
                }
            }
            sum
        }
    }

    #[test]
    fn a_summary_keeps_the_space_saving_bound_against_exact_counts() {
        let mut rng = Rng::new(7);
        for round in 0..40 {
            let mut summary = Summary::new();
            let mut exact: HashMap<Vec<u8>, u64> = HashMap::new();
            let keys = rng.range(1, 2000);
            for _ in 0..rng.range(1, 20_000) {
                // Zipf-ish: small numbers far more often.
                let k = rng.next_u64() % rng.range(1, keys);
                let key = format!("k{k}").into_bytes();
                summary.record(&key);
                *exact.entry(key).or_default() += 1;
            }
            let min = summary.min_count();
            let mut tracked = 0;
            for (key, cut, count, over) in summary.entries() {
                assert!(!cut);
                let truth = exact.get(key).copied().unwrap_or(0);
                assert!(count >= truth && count - over <= truth, "round {round}: {key:?} {count}/{over} true {truth}");
                assert!(summary.get(key, false) == Some((count, over)), "round {round}: index lost {key:?}");
                tracked += 1;
            }
            assert_eq!(tracked, exact.len().min(SLOTS), "round {round}");
            for (key, truth) in &exact {
                if summary.get(key, false).is_none() {
                    assert!(*truth <= min, "round {round}: untracked {key:?} refused {truth} > min {min}");
                }
            }
            assert_eq!(summary.total(), exact.values().sum::<u64>());
        }
    }

    #[test]
    fn hot_keys_among_100_000_cold_ones_are_named_within_the_bound() {
        let mut rng = Rng::new(11);
        let mut top = Top::new();
        let now = 1_700_000_000_000;
        let mut exact: HashMap<Vec<u8>, u64> = HashMap::new();
        let hot: Vec<Vec<u8>> = (0..5).map(|i| format!("tenant:hot{i}").into_bytes()).collect();
        for cold in 0..100_000u64 {
            let key = format!("tenant:cold{cold}").into_bytes();
            top.record(&key, now);
            *exact.entry(key).or_default() += 1;
            if rng.chance(20) {
                let h = &hot[(rng.next_u64() % 5) as usize];
                top.record(h, now);
                *exact.entry(h.clone()).or_default() += 1;
            }
        }
        let answer = top.top(5, now);
        let named: Vec<&[u8]> = answer.iter().map(|e| &e.key[..]).collect();
        for h in &hot {
            assert!(named.contains(&&h[..]), "{:?} missing from {answer:?}", String::from_utf8_lossy(h));
        }
        for e in &answer {
            let truth = exact[&e.key];
            assert!(e.refusals >= truth && e.refusals - e.overcount <= truth, "{e:?} true {truth}");
        }
    }

    #[test]
    fn the_bound_holds_under_random_traffic_and_rotation() {
        let mut rng = Rng::new(3);
        for round in 0..30 {
            let mut top = Top::new();
            let mut exact = Exact { minutes: HashMap::new() };
            let mut now: Millis = 1_700_000_000_000 + rng.range(0, PERIOD_MS);
            let hot = rng.range(1, 8);
            let cold = rng.range(10, 50_000);
            for step in 0..rng.range(100, 30_000) {
                // Mostly forward; sometimes a minute or more passes, sometimes the clock steps
                // back a little (counted in the current minute, as the summary does).
                now = match rng.next_u64() % 1000 {
                    0 => now + rng.range(PERIOD_MS, 3 * PERIOD_MS),
                    1 => now.saturating_sub(rng.range(0, 5_000)),
                    _ => now + rng.range(0, 20),
                };
                let key = if rng.chance(3) { format!("hot{}", rng.next_u64() % hot) } else { format!("cold{}", rng.next_u64() % cold) };
                // As the summary counts: a step back stays in its current minute.
                let minute = (now / PERIOD_MS).max(top.minute);
                top.record(key.as_bytes(), now);
                exact.record(key.as_bytes(), minute);
                if step % 997 == 0 {
                    let window = exact.window(top.minute);
                    check(&mut top, &window, now, &format!("round {round} step {step}"));
                }
            }
            let at = now.max(top.minute * PERIOD_MS);
            let window = exact.window(at / PERIOD_MS);
            check(&mut top, &window, at, &format!("round {round} end"));
        }
    }

    #[test]
    fn refusals_fade_after_two_minutes() {
        let mut top = Top::new();
        let start = 1_700_000_000_000 / PERIOD_MS * PERIOD_MS;
        for _ in 0..3 {
            top.record(b"a", start + 10);
        }
        top.record(b"b", start + PERIOD_MS + 5);
        // Still within the previous minute.
        assert_eq!(
            top.top(10, start + PERIOD_MS + 6),
            [Entry { key: b"a".to_vec(), refusals: 3, overcount: 0 }, Entry { key: b"b".to_vec(), refusals: 1, overcount: 0 }]
        );
        // "a" was refused two minutes ago: gone; "b" a minute ago: still there.
        assert_eq!(top.top(10, start + 2 * PERIOD_MS), [Entry { key: b"b".to_vec(), refusals: 1, overcount: 0 }]);
        assert_eq!(top.top(10, start + 3 * PERIOD_MS), []);
        // A clock that steps back brings nothing back and counts in the current minute.
        top.record(b"c", start);
        assert_eq!(top.top(10, start + 3 * PERIOD_MS + 1), [Entry { key: b"c".to_vec(), refusals: 1, overcount: 0 }]);
        top.reset();
        assert_eq!(top.top(10, start + 3 * PERIOD_MS + 2), []);
    }

    #[test]
    fn long_keys_are_tracked_by_their_first_bytes_and_marked() {
        let mut top = Top::new();
        let long_a = [vec![b'x'; KEY_BYTES], b"tail-a".to_vec()].concat();
        let long_b = [vec![b'x'; KEY_BYTES], b"tail-b".to_vec()].concat();
        let exact_len = vec![b'x'; KEY_BYTES];
        top.record(&long_a, 0);
        top.record(&long_b, 0);
        top.record(&exact_len, 0);
        let answer = top.top(10, 0);
        let cut = [vec![b'x'; KEY_BYTES], TRUNCATED.to_vec()].concat();
        assert_eq!(answer, [Entry { key: cut, refusals: 2, overcount: 0 }, Entry { key: exact_len, refusals: 1, overcount: 0 }]);
    }

    #[test]
    fn count_limits_the_answer() {
        let mut top = Top::new();
        for i in 0..300u64 {
            for _ in 0..=i % 7 {
                top.record(format!("k{i}").as_bytes(), 5);
            }
        }
        assert_eq!(top.top(1, 5).len(), 1);
        assert_eq!(top.top(10, 5).len(), 10);
        assert_eq!(top.top(1000, 5).len(), MAX_COUNT);
        assert!(top.top(3, 5).iter().all(|e| e.refusals >= 7));
    }

    #[test]
    fn an_empty_summary_is_all_zeroes() {
        // A static Top costs no file space and no work at load.
        let top = Top::new();
        let bytes = std::mem::size_of::<Top>();
        assert!(bytes < 100_000, "{bytes} bytes");
        assert_eq!(top.current.used + top.previous.used, 0);
    }
}
