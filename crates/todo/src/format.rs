//! The on-disk formats: list snapshots and write-ahead log records.
//!
//! # Snapshot (one file per list, `<data dir>/<encoded name>.list`)
//!
//! UTF-8 text, one item per line, readable with `cat` (the tabs of entry lines shown as `→`):
//!
//! ```text
//! todo-list 1
//! next_id 4
//! entries 2
//! 1→2018-12-19→Dentist
//! 3→2018-12-20→Shopping\tand\\more
//! crc32 8a3f01c2
//! ```
//!
//! Entry lines are `id TAB date TAB title`, the title with `\` `TAB` `LF` `CR` escaped as
//! `\\` `\t` `\n` `\r`. The last line is the CRC-32 (IEEE) of every byte before it, in hex. A
//! file that does not parse, or whose checksum does not match, is reported as corrupt.
//!
//! The list name is encoded into the file name: ASCII letters, digits, `_` and `-` stay, every
//! other byte becomes `%XX` (so any name maps to one safe file name, and back).
//!
//! # Write-ahead log (`<data dir>/wal-<n>.log`, one per database worker)
//!
//! A sequence of records, each `magic | u32 payload length | u32 CRC-32 of payload | payload`,
//! integers little-endian, payload = `u32 name length | name bytes | body`. Two kinds:
//!
//! - magic `"TDWL"`, a *snapshot record*: the body is the list's whole snapshot (above);
//! - magic `"TDWO"`, a *change record*: the body is one changed entry, UTF-8 text
//!   `put NEXT_ID TAB id TAB date TAB title` (an entry added or updated, the title escaped as in
//!   a snapshot) or `del NEXT_ID TAB id` (an entry deleted), `NEXT_ID` being the list's next id
//!   after the change.
//!
//! A worker logs a list's first write in each log as a snapshot record and its later writes
//! there as change records, so a write costs a few dozen bytes of log however long the list
//! is, and every log holds, for each list it mentions, a snapshot before any change: replay
//! never needs a list's file (a change with no snapshot before it stops the replay, and the
//! log is kept). A change is logged only if it was made to the version the log's previous
//! record of the list leaves; otherwise the write is logged as a snapshot. Replay reads
//! records until the first one that is incomplete or fails its checksum (a torn write at the
//! tail, or the file's preallocated zeros), and applies each in order: a snapshot replaces the
//! list, a change is applied to it. A whole record with a good checksum that cannot be read
//! (not written by this format) is reported and skipped. Every change record written reads
//! back as the change (checked when it is encoded).
//!
//! Beside the current log a worker may have `wal-<n>.old` (a rotated log whose checkpoint has
//! not finished) and `wal-<n>.next` (a fresh log made ahead of the next rotation; it holds
//! records only if a crash came between a rotation's two renames). A start replays the three,
//! in that order: old, current, next. `wal-<n>.next.w<n>.<k>.tmp` is a fresh log being made;
//! it is never replayed, and a start removes it.

use std::fmt::Write as _;

use crate::date::Date;
use crate::list::{Entry, TodoList};

/// CRC-32 (IEEE 802.3), bitwise table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn escape(title: &str, out: &mut String) {
    for ch in title.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                't' => out.push('\t'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Writes an entry as a snapshot's entry line and a change record's body end it:
/// `id TAB date TAB title`, the title escaped.
fn write_entry(e: &Entry, out: &mut String) {
    let _ = write!(out, "{}\t{}\t", e.id, e.date);
    escape(&e.title, out);
}

/// Reads what [`write_entry`] wrote; `Err` says what is wrong with it.
fn parse_entry(line: &str) -> Result<Entry, String> {
    let mut parts = line.splitn(3, '\t');
    let (Some(id), Some(date), Some(title)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("bad entry line {line:?}"));
    };
    let id: u64 = id.parse().map_err(|_| format!("bad entry id {id:?}"))?;
    let date: Date = date.parse().map_err(|e| format!("{e}"))?;
    let title = unescape(title).ok_or_else(|| format!("bad escape in {title:?}"))?;
    Ok(Entry { id, date, title })
}

/// Encodes a list as a snapshot.
pub(crate) fn encode_list(list: &TodoList) -> Vec<u8> {
    let mut s = String::with_capacity(64 + list.size() * 40);
    let _ = writeln!(s, "todo-list 1");
    let _ = writeln!(s, "next_id {}", list.next_id());
    let _ = writeln!(s, "entries {}", list.size());
    for e in list.all_entries() {
        write_entry(e, &mut s);
        s.push('\n');
    }
    let crc = crc32(s.as_bytes());
    let _ = writeln!(s, "crc32 {crc:08x}");
    s.into_bytes()
}

/// Decodes a snapshot; `Err` says what is wrong with it.
pub(crate) fn decode_list(bytes: &[u8]) -> Result<TodoList, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|i| i + 1)
        .ok_or("truncated")?;
    let (body, trailer) = text.split_at(body_end);
    let want = trailer
        .trim_end()
        .strip_prefix("crc32 ")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("missing checksum line")?;
    if crc32(body.as_bytes()) != want {
        return Err("checksum mismatch".into());
    }
    let mut lines = body.lines();
    if lines.next() != Some("todo-list 1") {
        return Err("unknown header".into());
    }
    let field = |line: Option<&str>, name: &str| -> Result<u64, String> {
        line.and_then(|l| l.strip_prefix(name))
            .and_then(|v| v.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("bad {name} line"))
    };
    let next_id = field(lines.next(), "next_id")?;
    let count = field(lines.next(), "entries")?;
    let mut entries = Vec::new();
    for line in lines {
        entries.push(parse_entry(line)?);
    }
    if entries.len() as u64 != count {
        return Err(format!("expected {count} entries, found {}", entries.len()));
    }
    TodoList::from_parts(next_id, entries)
        .ok_or_else(|| "duplicate or out-of-range entry ids".into())
}

/// The file name of a list's snapshot.
pub(crate) fn file_name(list_name: &str) -> String {
    let mut s = String::with_capacity(list_name.len() + 5);
    for b in list_name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s.push_str(".list");
    s
}

/// The list name of a snapshot's file name, if it is one.
pub(crate) fn list_name(file_name: &str) -> Option<String> {
    let stem = file_name.strip_suffix(".list")?;
    let mut out = Vec::with_capacity(stem.len());
    let b = stem.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = stem.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

const MAGIC: &[u8; 4] = b"TDWL";
const CHANGE_MAGIC: &[u8; 4] = b"TDWO";

/// One entry's change, as a change record logs it (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum EntryChange {
    /// The entry, added or updated, whole.
    Put { next_id: u64, entry: Entry },
    /// The entry with this id is gone.
    Delete { next_id: u64, id: u64 },
}

/// A decoded log record, borrowing from the log's bytes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LogRecord<'a> {
    /// A list's whole snapshot (bytes as in a list's file).
    Snapshot(&'a str, &'a [u8]),
    /// One change to a list.
    Change(&'a str, EntryChange),
    /// A whole record, its checksum good, that this format cannot read (a change body that
    /// does not parse, a name that is not UTF-8). Replay reports it and goes on with the next
    /// record: ending there would drop every later record of the log.
    Unreadable,
}

/// Appends one framed record (`magic`, length, CRC, name, body) to `out`.
fn frame(magic: &[u8; 4], name: &str, body: &[u8], out: &mut Vec<u8>) {
    let name_len = u32::try_from(name.len()).unwrap_or(u32::MAX);
    let payload_len = 4 + name.len() + body.len();
    let start = out.len();
    out.extend_from_slice(magic);
    out.extend_from_slice(&u32::try_from(payload_len).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled below
    let payload_start = out.len();
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(body);
    let crc = crc32(&out[payload_start..]);
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

/// Appends one snapshot record for `name` to `out`.
pub(crate) fn encode_record(name: &str, snapshot: &[u8], out: &mut Vec<u8>) {
    frame(MAGIC, name, snapshot, out);
}

/// Appends one change record for `name` to `out`, if its body reads back as `change`;
/// otherwise appends nothing and returns false (the caller logs a snapshot instead), so that
/// a change record that is written can always be replayed.
pub(crate) fn encode_change(name: &str, change: &EntryChange, out: &mut Vec<u8>) -> bool {
    let mut body = String::with_capacity(48);
    match change {
        EntryChange::Put { next_id, entry } => {
            let _ = write!(body, "put {next_id}\t");
            write_entry(entry, &mut body);
        }
        EntryChange::Delete { next_id, id } => {
            let _ = write!(body, "del {next_id}\t{id}");
        }
    }
    if decode_change(body.as_bytes()).as_ref() != Some(change) {
        return false;
    }
    frame(CHANGE_MAGIC, name, body.as_bytes(), out);
    true
}

/// Decodes a change record's body.
fn decode_change(body: &[u8]) -> Option<EntryChange> {
    let text = std::str::from_utf8(body).ok()?;
    let (kind, rest) = text.split_at_checked(4)?;
    let (next_id, rest) = rest.split_once('\t')?;
    let next_id = next_id.parse().ok()?;
    match kind {
        "put " => Some(EntryChange::Put {
            next_id,
            entry: parse_entry(rest).ok()?,
        }),
        "del " => Some(EntryChange::Delete {
            next_id,
            id: rest.parse().ok()?,
        }),
        _ => None,
    }
}

/// The valid records at the start of a log, in order, decoded one at a time (a log may hold
/// millions of change records: they are never all in memory at once).
pub(crate) fn decode_records(log: &[u8]) -> Records<'_> {
    Records { log, pos: 0 }
}

/// The iterator of [`decode_records`]: it ends at the first record that is incomplete or fails
/// its checksum (a torn write, or the preallocated zeros after the last record).
pub(crate) struct Records<'a> {
    log: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = LogRecord<'a>;

    fn next(&mut self) -> Option<LogRecord<'a>> {
        let log = self.log;
        let pos = self.pos;
        let u32_at = |p: usize| -> Option<usize> {
            log.get(p..p + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let magic = log.get(pos..pos + 4)?;
        let change = magic == CHANGE_MAGIC;
        if magic != MAGIC && !change {
            return None;
        }
        let len = u32_at(pos + 4)?;
        let crc = u32_at(pos + 8)?;
        let payload = log.get(pos + 12..(pos + 12).checked_add(len)?)?;
        if crc32(payload) as usize != crc {
            return None;
        }
        self.pos = pos + 12 + len;
        let parsed = (|| {
            let name_len = u32_at(pos + 12)?;
            let name = payload.get(4..4usize.checked_add(name_len)?)?;
            let body = payload.get(4 + name_len..)?;
            let name = std::str::from_utf8(name).ok()?;
            Some(if change {
                LogRecord::Change(name, decode_change(body)?)
            } else {
                LogRecord::Snapshot(name, body)
            })
        })();
        Some(parsed.unwrap_or(LogRecord::Unreadable))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn snapshots_round_trip_any_title() {
        let mut l = TodoList::new();
        l.add_entry(d("2018-12-19"), "Dentist");
        let id = l.add_entry(d("2018-12-20"), "tab\there\nnewline \\ backslash é");
        l.add_entry(d("2018-12-21"), "");
        l.delete_entry(id - 1);
        let bytes = encode_list(&l);
        assert_eq!(decode_list(&bytes), Ok(l));
    }

    #[test]
    fn corruption_is_detected() {
        let mut l = TodoList::new();
        l.add_entry(d("2018-12-19"), "Dentist");
        let mut bytes = encode_list(&l);
        let i = bytes.iter().position(|b| *b == b'D').unwrap();
        bytes[i] = b'd';
        assert_eq!(decode_list(&bytes), Err("checksum mismatch".into()));
        assert!(decode_list(b"").is_err());
        assert!(decode_list(&[0xff, 0xfe]).is_err());
        assert!(decode_list(&encode_list(&l)[..20]).is_err());
    }

    #[test]
    fn file_names_are_safe_and_reversible() {
        for name in [
            "Bob's list",
            "../etc/passwd",
            "a/b",
            "plain",
            "ünïcode",
            "%41",
            ".hidden",
        ] {
            let f = file_name(name);
            assert!(
                f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-%.".contains(&b)),
                "{f}"
            );
            assert!(!f.starts_with('.'));
            assert_eq!(list_name(&f).as_deref(), Some(name));
        }
    }

    #[test]
    fn log_replay_stops_at_a_torn_record() {
        let mut log = Vec::new();
        encode_record("a", b"one", &mut log);
        encode_record("b", b"two", &mut log);
        let whole = log.len();
        encode_record("c", b"three", &mut log);
        let torn = &log[..log.len() - 2];
        let recs: Vec<_> = decode_records(torn).collect();
        assert_eq!(
            recs,
            vec![
                LogRecord::Snapshot("a", b"one"),
                LogRecord::Snapshot("b", b"two")
            ]
        );
        let mut zeros = log[..whole].to_vec();
        zeros.extend_from_slice(&[0; 64]);
        assert_eq!(decode_records(&zeros).count(), 2);
    }

    #[test]
    fn change_records_round_trip_any_title() {
        let changes = [
            EntryChange::Put {
                next_id: 8,
                entry: Entry {
                    id: 7,
                    date: d("2018-12-19"),
                    title: "tab\there\nnewline \\ backslash é".into(),
                },
            },
            EntryChange::Put {
                next_id: 8,
                entry: Entry {
                    id: 2,
                    date: d("2018-12-31"),
                    title: String::new(),
                },
            },
            EntryChange::Delete { next_id: 9, id: 7 },
        ];
        let mut log = Vec::new();
        encode_record("a", b"snapshot", &mut log);
        for c in &changes {
            assert!(encode_change("a list", c, &mut log));
        }
        let recs: Vec<_> = decode_records(&log).collect();
        assert_eq!(recs.len(), 4);
        for (r, c) in recs[1..].iter().zip(&changes) {
            assert_eq!(*r, LogRecord::Change("a list", c.clone()));
        }
        // Cut anywhere in the last record: the ones before it stay.
        for back in 1..20 {
            assert_eq!(decode_records(&log[..log.len() - back]).count(), 3);
        }
        // Checksummed but not a change this format writes: reported, and the records after
        // it are still read.
        let mut odd = Vec::new();
        frame(CHANGE_MAGIC, "a", b"mov 1\t2", &mut odd);
        encode_record("b", b"after", &mut odd);
        let recs: Vec<_> = decode_records(&odd).collect();
        assert_eq!(
            recs,
            [LogRecord::Unreadable, LogRecord::Snapshot("b", b"after")]
        );
        for bad in [
            "put 1\t2",
            "del 1\t2\t3",
            "del x\t2",
            "put 3\t2\t2018-13-01\tx",
        ] {
            assert_eq!(decode_change(bad.as_bytes()), None, "{bad}");
        }
    }
}
