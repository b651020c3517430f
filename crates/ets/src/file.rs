//! `tab2file`/`file2tab`: a small binary dump format, written and read whole.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! magic     8 bytes  "ETSRS01\n"
//! name      u32 length + UTF-8 bytes
//! type      u8       0 set, 1 ordered_set, 2 bag, 3 duplicate_bag
//! access    u8       0 public, 1 protected, 2 private
//! flags     u8       bit 0: named_table, bit 1: read_concurrency
//! keypos    u32
//! count     u64      number of objects
//! objects   count terms
//! checksum  u64      FxHash of every byte before it
//!
//! term      tag u8, then:
//!   0 integer  i64
//!   1 float    f64 bits (u64)
//!   2 atom     u32 length + UTF-8 bytes
//!   3 binary   u32 length + bytes
//!   4 tuple    u32 arity + terms
//!   5 list     u32 length + terms
//!   6 map      u32 size + (key term, value term) pairs
//! ```
//!
//! Pids and references have no meaning outside the run that made them, so a table holding one
//! cannot be written ([`EtsError::Unserializable`]). Reading checks lengths, nesting depth and
//! the checksum, so a truncated or corrupted file gives [`EtsError::BadFile`], never a panic.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::Path;
use std::sync::Arc;

use crate::error::EtsError;
use crate::hash::FxHasher;
use crate::options::{Access, Options, TableType};
use crate::registry::Info;
use crate::term::{Atom, Term};

const MAGIC: &[u8; 8] = b"ETSRS01\n";
const MAX_DEPTH: usize = 512;

fn put_len(out: &mut Vec<u8>, n: usize) -> Result<(), EtsError> {
    let n = u32::try_from(n).map_err(|_| EtsError::BadFile("a term is too large".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn encode(t: &Term, out: &mut Vec<u8>) -> Result<(), EtsError> {
    match t {
        Term::Int(i) => {
            out.push(0);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Term::Float(f) => {
            out.push(1);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Term::Atom(a) => {
            out.push(2);
            put_len(out, a.as_str().len())?;
            out.extend_from_slice(a.as_str().as_bytes());
        }
        Term::Binary(b) => {
            out.push(3);
            put_len(out, b.len())?;
            out.extend_from_slice(b);
        }
        Term::Tuple(v) | Term::List(v) => {
            out.push(if matches!(t, Term::Tuple(_)) { 4 } else { 5 });
            put_len(out, v.len())?;
            for e in v.iter() {
                encode(e, out)?;
            }
        }
        Term::Map(m) => {
            out.push(6);
            put_len(out, m.len())?;
            for (k, v) in m.iter() {
                encode(k, out)?;
                encode(v, out)?;
            }
        }
        Term::Pid(_) => return Err(EtsError::Unserializable("pid")),
        Term::Ref(_) => return Err(EtsError::Unserializable("reference")),
    }
    Ok(())
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// Writes a dump of a table to `path`.
pub(crate) fn write(path: &Path, info: &Info, objs: &[Term]) -> Result<(), EtsError> {
    let mut out = Vec::with_capacity(64 + objs.len() * 32);
    out.extend_from_slice(MAGIC);
    put_len(&mut out, info.name.as_str().len())?;
    out.extend_from_slice(info.name.as_str().as_bytes());
    out.push(match info.kind {
        TableType::Set => 0,
        TableType::OrderedSet => 1,
        TableType::Bag => 2,
        TableType::DuplicateBag => 3,
    });
    out.push(match info.protection {
        Access::Public => 0,
        Access::Protected => 1,
        Access::Private => 2,
    });
    out.push(u8::from(info.named_table) | u8::from(info.read_concurrency) << 1);
    put_len(&mut out, info.keypos)?;
    out.extend_from_slice(&(objs.len() as u64).to_le_bytes());
    for o in objs {
        encode(o, &mut out)?;
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    std::fs::write(path, out)?;
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn bad(what: &str) -> EtsError {
    EtsError::BadFile(what.to_string())
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], EtsError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, EtsError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, EtsError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, EtsError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn len(&mut self) -> Result<usize, EtsError> {
        let n = self.u32()? as usize;
        // Every element takes at least one byte: a length beyond the rest of the file is a lie.
        if n > self.bytes.len() - self.pos {
            return Err(bad("a length runs past the end of the file"));
        }
        Ok(n)
    }

    fn text(&mut self) -> Result<&str, EtsError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| bad("text is not UTF-8"))
    }

    fn term(&mut self, depth: usize) -> Result<Term, EtsError> {
        if depth > MAX_DEPTH {
            return Err(bad("terms nested too deeply"));
        }
        Ok(match self.u8()? {
            0 => Term::Int(self.u64()? as i64),
            1 => {
                let f = f64::from_bits(self.u64()?);
                if !f.is_finite() {
                    return Err(bad("non-finite float"));
                }
                Term::Float(f)
            }
            2 => Term::Atom(Atom::new(self.text()?)),
            3 => {
                let n = self.len()?;
                Term::Binary(Arc::from(self.take(n)?))
            }
            tag @ (4 | 5) => {
                let n = self.len()?;
                let v = (0..n)
                    .map(|_| self.term(depth + 1))
                    .collect::<Result<Arc<[Term]>, _>>()?;
                if tag == 4 {
                    Term::Tuple(v)
                } else {
                    Term::List(v)
                }
            }
            6 => {
                let n = self.len()?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.term(depth + 1)?;
                    let v = self.term(depth + 1)?;
                    m.insert(k, v);
                }
                Term::Map(Box::new(m))
            }
            t => return Err(EtsError::BadFile(format!("unknown term tag {t}"))),
        })
    }
}

/// Reads a dump: the table's name, its options and its objects.
pub(crate) fn read(path: &Path) -> Result<(Atom, Options, Vec<Term>), EtsError> {
    let bytes = std::fs::read(path)?;
    if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a table file"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut s = [0u8; 8];
    s.copy_from_slice(sum);
    if checksum(body) != u64::from_le_bytes(s) {
        return Err(bad("checksum mismatch"));
    }
    let mut r = Reader {
        bytes: body,
        pos: MAGIC.len(),
    };
    let name = Atom::new(r.text()?);
    let kind = match r.u8()? {
        0 => TableType::Set,
        1 => TableType::OrderedSet,
        2 => TableType::Bag,
        3 => TableType::DuplicateBag,
        _ => return Err(bad("unknown table type")),
    };
    let access = match r.u8()? {
        0 => Access::Public,
        1 => Access::Protected,
        2 => Access::Private,
        _ => return Err(bad("unknown access mode")),
    };
    let flags = r.u8()?;
    if flags > 3 {
        return Err(bad("unknown table flags"));
    }
    let keypos = r.u32()? as usize;
    let count = r.u64()?;
    let mut objs = Vec::with_capacity((count as usize).min(body.len()));
    for _ in 0..count {
        objs.push(r.term(0)?);
    }
    if r.pos != body.len() {
        return Err(bad("trailing bytes after the objects"));
    }
    let mut opts = Options::new()
        .kind(kind)
        .access(access)
        .keypos(keypos)
        .read_concurrency(flags & 2 != 0);
    if flags & 1 != 0 {
        opts = opts.named_table();
    }
    Ok((name, opts, objs))
}
