//! `TodoList`: pure data, no processes (the book's `Todo.List`).

use std::collections::BTreeMap;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TodoList {
    next_id: u64,
    entries: BTreeMap<u64, Entry>,
}

impl Default for TodoList {
    fn default() -> Self {
        TodoList {
            next_id: 1,
            entries: BTreeMap::new(),
        }
    }
}

impl TodoList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
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
        self.entries.insert(
            id,
            Entry {
                id,
                date,
                title: title.into(),
            },
        );
        id
    }

    /// The entries for `date`, in id order.
    pub fn entries(&self, date: Date) -> Vec<Entry> {
        self.entries
            .values()
            .filter(|e| e.date == date)
            .cloned()
            .collect()
    }

    /// All entries, in id order.
    pub fn all_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Changes the entry `id` with `f` (its id cannot change). Returns false if there is no
    /// such entry (then nothing happens, as in the book).
    pub fn update_entry(&mut self, id: u64, f: impl FnOnce(&mut Entry)) -> bool {
        match self.entries.get_mut(&id) {
            Some(e) => {
                f(e);
                e.id = id;
                true
            }
            None => false,
        }
    }

    /// Removes the entry `id`; returns whether it existed.
    pub fn delete_entry(&mut self, id: u64) -> bool {
        self.entries.remove(&id).is_some()
    }

    /// The number of entries.
    pub fn size(&self) -> usize {
        self.entries.len()
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
                self.entries.insert(entry.id, entry);
            }
            EntryChange::Delete { next_id, id } => {
                self.entries.remove(&id);
                self.next_id = self.next_id.max(next_id);
            }
        }
    }

    /// The entry with `id`, if any.
    pub(crate) fn entry(&self, id: u64) -> Option<&Entry> {
        self.entries.get(&id)
    }

    /// Rebuilds a list from stored parts (the database's decoder).
    pub(crate) fn from_parts(next_id: u64, entries: Vec<Entry>) -> Option<Self> {
        let mut map = BTreeMap::new();
        for e in entries {
            if e.id >= next_id || map.insert(e.id, e).is_some() {
                return None;
            }
        }
        Some(TodoList {
            next_id,
            entries: map,
        })
    }
}
