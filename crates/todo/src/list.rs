//! `TodoList`: pure data, no processes (the book's `Todo.List`).

use std::fmt;
use std::sync::Arc;

use crate::date::Date;

/// One entry of a to-do list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Assigned by the list when the entry is added; never reused.
    pub id: u64,
    /// The day the entry is for.
    pub date: Date,
    /// What to do.
    pub title: String,
}

/// A to-do list: entries by id, with ids assigned in order and never reused.
///
/// ```
/// use todo::{TodoList, Date};
/// let d: Date = "2018-12-19".parse().unwrap();
/// let mut list = TodoList::new();
/// let id = list.add_entry(d, "Dentist");
/// list.add_entry(d, "Movies");
/// assert_eq!(list.entries(d).len(), 2);
/// list.update_entry(id, |e| e.title = "Dentist at 10".into());
/// list.delete_entry(id);
/// assert_eq!(list.entries(d)[0].title, "Movies");
/// assert_eq!(list.add_entry(d, "Shopping"), 3); // ids are never reused
/// ```
///
/// Cloning a list is cheap, and so is changing a clone: the entries are kept in id order in
/// chunks of at most 16 that the clones share, and a change copies the chunk it touches and
/// one pointer per chunk. The system copies a list on every write (the database and the
/// readers keep the version they were handed), so a write copies about a sixteenth of what
/// copying every entry and its title did. Chunks are split when they grow past 16 and dropped
/// when empty, never merged.
#[derive(Clone)]
pub struct TodoList {
    next_id: u64,
    /// Non-empty chunks of entries; ids increase within a chunk and from one to the next.
    chunks: Vec<Arc<Vec<Entry>>>,
    /// Entries in all chunks.
    len: usize,
}

impl Default for TodoList {
    fn default() -> Self {
        Self::new()
    }
}

/// The most entries a chunk holds.
const CHUNK: usize = 16;

impl PartialEq for TodoList {
    /// Two lists are equal if they have the same entries and next id, however their entries
    /// happen to be chunked.
    fn eq(&self, other: &Self) -> bool {
        self.next_id == other.next_id
            && self.len == other.len
            && self.all_entries().eq(other.all_entries())
    }
}

impl Eq for TodoList {}

impl fmt::Debug for TodoList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TodoList")
            .field("next_id", &self.next_id)
            .field("entries", &self.all_entries().collect::<Vec<_>>())
            .finish()
    }
}

impl TodoList {
    /// An empty list.
    pub fn new() -> Self {
        TodoList {
            next_id: 1,
            chunks: Vec::new(),
            len: 0,
        }
    }

    /// A list with these entries, added in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (Date, &'a str)>) -> Self {
        let mut list = Self::new();
        for (d, t) in entries {
            list.add_entry(d, t);
        }
        list
    }

    /// Adds an entry and returns its id.
    pub fn add_entry(&mut self, date: Date, title: impl Into<String>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.put(Entry {
            id,
            date,
            title: title.into(),
        });
        id
    }

    /// The entries for `date`, in id order.
    pub fn entries(&self, date: Date) -> Vec<Entry> {
        self.all_entries()
            .filter(|e| e.date == date)
            .cloned()
            .collect()
    }

    /// All entries, in id order.
    pub fn all_entries(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Changes the entry `id` with `f` (its id cannot change). Returns false if there is no
    /// such entry (then nothing happens, as in the book).
    pub fn update_entry(&mut self, id: u64, f: impl FnOnce(&mut Entry)) -> bool {
        let Some((c, i)) = self.find(id) else {
            return false;
        };
        let e = &mut Arc::make_mut(&mut self.chunks[c])[i];
        f(e);
        e.id = id;
        true
    }

    /// Removes the entry `id`; returns whether it existed.
    pub fn delete_entry(&mut self, id: u64) -> bool {
        let Some((c, i)) = self.find(id) else {
            return false;
        };
        if self.chunks[c].len() == 1 {
            self.chunks.remove(c);
        } else {
            Arc::make_mut(&mut self.chunks[c]).remove(i);
        }
        self.len -= 1;
        true
    }

    /// The number of entries.
    pub fn size(&self) -> usize {
        self.len
    }

    /// The id the next entry will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Applies a logged change (replay): the entry put whole or removed, and the next id
    /// raised to the logged one (never lowered, so ids are never reused). Replaying a change
    /// twice gives the same list.
    pub(crate) fn apply(&mut self, change: crate::format::EntryChange) {
        use crate::format::EntryChange;
        match change {
            EntryChange::Put { next_id, entry } => {
                self.next_id = self.next_id.max(next_id).max(entry.id.saturating_add(1));
                self.put(entry);
            }
            EntryChange::Delete { next_id, id } => {
                self.delete_entry(id);
                self.next_id = self.next_id.max(next_id);
            }
        }
    }

    /// The entry with `id`, if any.
    pub(crate) fn entry(&self, id: u64) -> Option<&Entry> {
        self.find(id).map(|(c, i)| &self.chunks[c][i])
    }

    /// Rebuilds a list from stored parts (the database's decoder).
    pub(crate) fn from_parts(next_id: u64, mut entries: Vec<Entry>) -> Option<Self> {
        entries.sort_by_key(|e| e.id);
        if entries.iter().any(|e| e.id >= next_id) || entries.windows(2).any(|w| w[0].id == w[1].id)
        {
            return None;
        }
        let len = entries.len();
        let chunks = entries
            .chunks(CHUNK)
            .map(|c| Arc::new(c.to_vec()))
            .collect();
        Some(TodoList {
            next_id,
            chunks,
            len,
        })
    }

    /// The chunk and the position in it of entry `id`.
    fn find(&self, id: u64) -> Option<(usize, usize)> {
        let c = self.chunk_for(id);
        let i = self
            .chunks
            .get(c)?
            .binary_search_by_key(&id, |e| e.id)
            .ok()?;
        Some((c, i))
    }

    /// The first chunk whose last id is not below `id`: the only one that can hold it, and
    /// where it goes (`chunks.len()` if it is past every chunk).
    fn chunk_for(&self, id: u64) -> usize {
        self.chunks
            .partition_point(|ch| ch.last().is_some_and(|e| e.id < id))
    }

    /// Puts `entry` in its place by id, replacing an entry with the same id. Only the chunk it
    /// goes into is copied (if a clone shares it), and a chunk that grows past [`CHUNK`] is
    /// split in two. New ids are the highest, so an added entry goes to the end of the last
    /// chunk.
    fn put(&mut self, entry: Entry) {
        let id = entry.id;
        let c = self.chunk_for(id);
        // Past every chunk: the last one, if it has room, or a new one.
        let c = if c == self.chunks.len() {
            match self.chunks.last() {
                Some(last) if last.len() < CHUNK => c - 1,
                _ => {
                    self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
                    c
                }
            }
        } else {
            c
        };
        let chunk = Arc::make_mut(&mut self.chunks[c]);
        match chunk.binary_search_by_key(&id, |e| e.id) {
            Ok(i) => chunk[i] = entry,
            Err(i) => {
                chunk.insert(i, entry);
                self.len += 1;
                if chunk.len() > CHUNK {
                    let upper = chunk.split_off(chunk.len() / 2);
                    self.chunks.insert(c + 1, Arc::new(upper));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::format::EntryChange;

    /// One step on a list; ids are picked among the ids used so far (and a few more).
    #[derive(Clone, Debug)]
    enum Op {
        Add(u8, u8),
        Update(u8, Option<u8>, Option<u8>),
        Delete(u8),
        Put(u8, u8, u8),
        Unput(u8),
        /// Keep a clone here, to check later that nothing done to the list changed it.
        Keep,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<u8>()).prop_map(|(d, t)| Op::Add(d, t)),
            2 => (any::<u8>(), any::<Option<u8>>(), any::<Option<u8>>())
                .prop_map(|(i, d, t)| Op::Update(i, d, t)),
            2 => any::<u8>().prop_map(Op::Delete),
            1 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(i, d, t)| Op::Put(i, d, t)),
            1 => any::<u8>().prop_map(Op::Unput),
            1 => Just(Op::Keep),
        ]
    }

    fn date(d: u8) -> Date {
        Date::new(2018, 12, 1 + d % 4).expect("a date")
    }

    /// The list next to a plain map of its entries.
    #[derive(Clone, Debug, PartialEq)]
    struct Model {
        next_id: u64,
        entries: BTreeMap<u64, Entry>,
    }

    fn check(list: &TodoList, m: &Model) {
        let want: Vec<&Entry> = m.entries.values().collect();
        assert_eq!(list.all_entries().collect::<Vec<_>>(), want);
        assert_eq!(list.size(), m.entries.len());
        assert_eq!(list.next_id(), m.next_id);
        for d in 0..4 {
            let by_date: Vec<Entry> = m
                .entries
                .values()
                .filter(|e| e.date == date(d))
                .cloned()
                .collect();
            assert_eq!(list.entries(date(d)), by_date);
        }
        assert!(
            list.chunks
                .iter()
                .all(|c| !c.is_empty() && c.len() <= CHUNK)
        );
        let rebuilt = TodoList::from_parts(m.next_id, m.entries.values().rev().cloned().collect());
        assert_eq!(rebuilt.as_ref(), Some(list), "equal however chunked");
    }

    proptest! {
        /// Every operation against the model; every clone kept along the way still holds what
        /// it held when it was made.
        #[test]
        fn a_list_behaves_like_a_map_of_entries_and_clones_never_change(
            ops in proptest::collection::vec(op(), 1..300)
        ) {
            let mut list = TodoList::new();
            let mut m = Model { next_id: 1, entries: BTreeMap::new() };
            let mut kept: Vec<(TodoList, Model)> = Vec::new();
            let pick = |m: &Model, i: u8| u64::from(i) % (m.next_id + 3);
            for op in ops {
                match op {
                    Op::Add(d, t) => {
                        let id = list.add_entry(date(d), format!("t{t}"));
                        prop_assert_eq!(id, m.next_id);
                        m.entries.insert(id, Entry { id, date: date(d), title: format!("t{t}") });
                        m.next_id += 1;
                    }
                    Op::Update(i, d, t) => {
                        let id = pick(&m, i);
                        let found = list.update_entry(id, |e| {
                            if let Some(d) = d { e.date = date(d); }
                            if let Some(t) = t { e.title = format!("u{t}"); }
                            e.id = 999_999; // an update cannot change the id
                        });
                        prop_assert_eq!(found, m.entries.contains_key(&id));
                        if let Some(e) = m.entries.get_mut(&id) {
                            if let Some(d) = d { e.date = date(d); }
                            if let Some(t) = t { e.title = format!("u{t}"); }
                        }
                    }
                    Op::Delete(i) => {
                        let id = pick(&m, i);
                        prop_assert_eq!(list.delete_entry(id), m.entries.remove(&id).is_some());
                    }
                    Op::Put(i, d, t) => {
                        let id = pick(&m, i);
                        let entry = Entry { id, date: date(d), title: format!("p{t}") };
                        list.apply(EntryChange::Put { next_id: m.next_id, entry: entry.clone() });
                        m.next_id = m.next_id.max(id + 1);
                        m.entries.insert(id, entry);
                    }
                    Op::Unput(i) => {
                        let id = pick(&m, i);
                        list.apply(EntryChange::Delete { next_id: m.next_id, id });
                        m.entries.remove(&id);
                    }
                    Op::Keep => kept.push((list.clone(), m.clone())),
                }
                check(&list, &m);
            }
            for (l, m) in &kept {
                check(l, m);
            }
        }
    }

    /// Long lists are chunked, and ids past the last chunk start a new one.
    #[test]
    fn a_long_list_is_kept_in_chunks() {
        let mut list = TodoList::new();
        for i in 0..(CHUNK * 5 + 3) {
            list.add_entry(date(0), format!("e{i}"));
        }
        assert_eq!(list.chunks.len(), 6);
        let copy = list.clone();
        list.update_entry(1, |e| e.title = "changed".into());
        assert!(
            Arc::ptr_eq(&list.chunks[5], &copy.chunks[5]),
            "untouched chunks stay shared"
        );
        assert!(
            !Arc::ptr_eq(&list.chunks[0], &copy.chunks[0]),
            "the changed one is copied"
        );
        assert_eq!(copy.entry(1).map(|e| e.title.as_str()), Some("e0"));
    }
}
