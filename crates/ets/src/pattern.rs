//! Match patterns and match specifications, compiled from terms as in ETS.
//!
//! A pattern is a term where the atom `'_'` matches anything and atoms `'$0'`, `'$1'`, ... are
//! variables (a repeated variable must match equal terms). A match specification is a list of
//! clauses `{Head, [Guard], [Body]}`: the head is a pattern, guards are expressions that must all
//! be `true`, and the body's last expression is the result. In guards and bodies, `'$_'` is the
//! whole object, `'$$'` the list of all bindings, `{const, T}` quotes a term, `{{A, B}}` builds a
//! tuple, a list builds a list, and `{Fun, Args...}` calls one of ETS's guard functions. An error
//! in a guard means no match; an error in a body gives the atom `'EXIT'`.
//!
//! Compilation checks everything that can be checked statically (shapes, unknown functions,
//! unbound variables), so evaluating a compiled spec never fails in a way the caller sees.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::error::EtsError;
use crate::stored::Stored;
use crate::term::Term;

/// The pattern variable `'$n'`.
pub fn var(n: u32) -> Term {
    Term::atom(&format!("${n}"))
}

/// The pattern wildcard `'_'`.
pub fn any() -> Term {
    Term::atom("_")
}

/// Parses a variable atom `'$N'` into N.
fn var_number(t: &Term) -> Option<u32> {
    let s = t.as_atom()?.strip_prefix('$')?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n <= 100_000_000)
}

/// A compiled head pattern.
#[derive(Debug)]
enum Pat {
    Any,
    /// A variable's slot in the bindings.
    Var(usize),
    Const(Term),
    Tuple(Vec<Pat>),
    List(Vec<Pat>),
    /// Keys are constants; the map may hold more keys.
    Map(Vec<(Term, Pat)>),
}

/// A guard or body expression.
#[derive(Debug)]
enum Expr {
    Const(Term),
    Var(usize),
    Object,
    Bindings,
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Term, Expr)>),
    Call(Fun, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fun {
    IsAtom,
    IsFloat,
    IsInteger,
    IsList,
    IsNumber,
    IsPid,
    IsPort,
    IsReference,
    IsTuple,
    IsMap,
    IsBinary,
    IsFunction,
    IsRecord,
    IsMapKey,
    Not,
    And,
    Or,
    Xor,
    AndAlso,
    OrElse,
    Abs,
    Element,
    Hd,
    Tl,
    Length,
    MapGet,
    MapSize,
    Max,
    Min,
    Float,
    Round,
    Floor,
    Ceil,
    Trunc,
    Size,
    TupleSize,
    ByteSize,
    BitSize,
    Add,
    Sub,
    Mul,
    Div,
    IntDiv,
    Rem,
    Band,
    Bor,
    Bxor,
    Bnot,
    Bsl,
    Bsr,
    Gt,
    Ge,
    Lt,
    Le,
    ExactEq,
    Eq,
    ExactNe,
    Ne,
    SelfPid,
    Node,
}

fn fun_of(name: &str, arity: usize) -> Option<Fun> {
    use Fun::*;
    let f = match (name, arity) {
        ("is_atom", 1) => IsAtom,
        ("is_float", 1) => IsFloat,
        ("is_integer", 1) => IsInteger,
        ("is_list", 1) => IsList,
        ("is_number", 1) => IsNumber,
        ("is_pid", 1) => IsPid,
        ("is_port", 1) => IsPort,
        ("is_reference", 1) => IsReference,
        ("is_tuple", 1) => IsTuple,
        ("is_map", 1) => IsMap,
        ("is_binary", 1) => IsBinary,
        ("is_function", 1) => IsFunction,
        ("is_record", 3) => IsRecord,
        ("is_map_key", 2) => IsMapKey,
        ("not", 1) => Not,
        ("and", 2) => And,
        ("or", 2) => Or,
        ("xor", 2) => Xor,
        ("andalso", n) if n >= 1 => AndAlso,
        ("orelse", n) if n >= 1 => OrElse,
        ("abs", 1) => Abs,
        ("element", 2) => Element,
        ("hd", 1) => Hd,
        ("tl", 1) => Tl,
        ("length", 1) => Length,
        ("map_get", 2) => MapGet,
        ("map_size", 1) => MapSize,
        ("max", 2) => Max,
        ("min", 2) => Min,
        ("float", 1) => Float,
        ("round", 1) => Round,
        ("floor", 1) => Floor,
        ("ceil", 1) => Ceil,
        ("trunc", 1) => Trunc,
        ("size", 1) => Size,
        ("tuple_size", 1) => TupleSize,
        ("byte_size", 1) => ByteSize,
        ("bit_size", 1) => BitSize,
        ("+", 1 | 2) => Add,
        ("-", 1 | 2) => Sub,
        ("*", 2) => Mul,
        ("/", 2) => Div,
        ("div", 2) => IntDiv,
        ("rem", 2) => Rem,
        ("band", 2) => Band,
        ("bor", 2) => Bor,
        ("bxor", 2) => Bxor,
        ("bnot", 1) => Bnot,
        ("bsl", 2) => Bsl,
        ("bsr", 2) => Bsr,
        (">", 2) => Gt,
        (">=", 2) => Ge,
        ("<", 2) => Lt,
        ("=<", 2) => Le,
        ("=:=", 2) => ExactEq,
        ("==", 2) => Eq,
        ("=/=", 2) => ExactNe,
        ("/=", 2) => Ne,
        ("self", 0) => SelfPid,
        ("node", 0) => Node,
        _ => return None,
    };
    Some(f)
}

/// One compiled clause.
#[derive(Debug)]
struct Clause {
    head: Pat,
    /// Variable numbers, in slot order.
    vars: Vec<u32>,
    /// Slots sorted by variable number: the order of `'$$'` and of `match/2` results.
    by_number: Vec<usize>,
    guards: Vec<Expr>,
    body: Vec<Expr>,
    /// The key, when the head binds it to a constant: the select becomes a lookup.
    bound_key: Option<Term>,
    /// The key's range, when the head's key is a tuple with a bound prefix.
    key_range: Option<KeyRange>,
}

/// The keys an `ordered_set` select can be narrowed to when the pattern's key is a tuple whose
/// first elements are bound (`{{a, b, '$1'}, ...}`): tuples of `arity` elements starting with
/// `prefix`. In term order these keys are contiguous, and none sorts before [`lower`]
/// (KeyRange::lower), so a scan from there that stops at the first key outside sees them all.
#[derive(Debug, Clone)]
pub(crate) struct KeyRange {
    arity: usize,
    prefix: Vec<Term>,
}

impl KeyRange {
    /// The prefix followed by the smallest term (the most negative float) in every other slot.
    pub(crate) fn lower(&self) -> Term {
        let fill = self.arity - self.prefix.len();
        Term::tuple(
            self.prefix
                .iter()
                .cloned()
                .chain(std::iter::repeat_n(Term::Float(f64::MIN), fill)),
        )
    }

    /// Whether `key` lies in the range (compared with Erlang's `==`, the ordered_set's key
    /// equality; the pattern itself then decides whether the object matches).
    pub(crate) fn contains(&self, key: &Term) -> bool {
        match key.as_tuple() {
            Some(e) if e.len() == self.arity => {
                self.prefix.iter().zip(e.iter()).all(|(p, k)| p.equals(k))
            }
            _ => false,
        }
    }
}

/// A compiled match specification.
#[derive(Debug)]
pub(crate) struct MatchSpec {
    clauses: Vec<Clause>,
}

struct HeadCompiler {
    vars: Vec<u32>,
}

impl HeadCompiler {
    fn slot(&mut self, n: u32) -> usize {
        match self.vars.iter().position(|&v| v == n) {
            Some(i) => i,
            None => {
                self.vars.push(n);
                self.vars.len() - 1
            }
        }
    }

    fn pat(&mut self, t: &Term) -> Pat {
        if !has_vars(t) {
            return Pat::Const(t.clone());
        }
        match t {
            Term::Atom(a) if a.as_str() == "_" => Pat::Any,
            Term::Atom(_) => match var_number(t) {
                Some(n) => Pat::Var(self.slot(n)),
                None => Pat::Const(t.clone()),
            },
            Term::Tuple(v) => Pat::Tuple(v.iter().map(|e| self.pat(e)).collect()),
            Term::List(v) => Pat::List(v.iter().map(|e| self.pat(e)).collect()),
            Term::Map(m) => Pat::Map(m.iter().map(|(k, v)| (k.clone(), self.pat(v))).collect()),
            _ => Pat::Const(t.clone()),
        }
    }
}

/// Whether a term holds `'_'` or a variable anywhere (maps: in values; keys are literal).
fn has_vars(t: &Term) -> bool {
    match t {
        Term::Atom(a) => a.as_str() == "_" || var_number(t).is_some(),
        Term::Tuple(v) | Term::List(v) => v.iter().any(has_vars),
        Term::Map(m) => m.values().any(has_vars),
        _ => false,
    }
}

fn expr(t: &Term, vars: &[u32], what: &str) -> Result<Expr, EtsError> {
    let bad = |m: String| EtsError::BadMatchSpec(m);
    Ok(match t {
        Term::Atom(a) => match a.as_str() {
            "$_" => Expr::Object,
            "$$" => Expr::Bindings,
            _ => match var_number(t) {
                Some(n) => match vars.iter().position(|&v| v == n) {
                    Some(slot) => Expr::Var(slot),
                    None => {
                        return Err(bad(format!(
                            "variable {t} in a {what} is not bound in the head"
                        )));
                    }
                },
                None => Expr::Const(t.clone()),
            },
        },
        Term::Tuple(v) => match &v[..] {
            [] => Expr::Const(t.clone()),
            [Term::Atom(c), quoted] if c.as_str() == "const" => Expr::Const(quoted.clone()),
            [Term::Tuple(inner)] => Expr::Tuple(
                inner
                    .iter()
                    .map(|e| expr(e, vars, what))
                    .collect::<Result<_, _>>()?,
            ),
            [Term::Atom(f), args @ ..] => {
                let fun = fun_of(f.as_str(), args.len()).ok_or_else(|| {
                    bad(format!("unknown function {}/{} in a {what}", f, args.len()))
                })?;
                Expr::Call(
                    fun,
                    args.iter()
                        .map(|e| expr(e, vars, what))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => {
                return Err(bad(format!(
                    "tuple {t} in a {what}: write tuples as {{{{...}}}} or {{const, T}}"
                )));
            }
        },
        Term::List(v) => Expr::List(
            v.iter()
                .map(|e| expr(e, vars, what))
                .collect::<Result<_, _>>()?,
        ),
        Term::Map(m) => Expr::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), expr(v, vars, what)?)))
                .collect::<Result<_, EtsError>>()?,
        ),
        _ => Expr::Const(t.clone()),
    })
}

fn check_head(head: &Term, err: fn(String) -> EtsError) -> Result<(), EtsError> {
    let ok = matches!(head, Term::Tuple(_)) || head.is_atom("_") || var_number(head).is_some();
    if ok {
        Ok(())
    } else {
        Err(err(format!(
            "{head} cannot match a table object: use a tuple, '_' or a variable"
        )))
    }
}

impl MatchSpec {
    /// Compiles an ETS match specification `[{Head, [Guard], [Body]}]`.
    pub(crate) fn compile(ms: &Term, keypos: usize) -> Result<MatchSpec, EtsError> {
        let bad = |m: &str| EtsError::BadMatchSpec(m.to_string());
        let clauses = ms
            .as_list()
            .ok_or_else(|| bad("a match specification is a list of {Head, Guards, Body}"))?;
        let mut out = Vec::with_capacity(clauses.len());
        for c in clauses {
            let parts = c
                .as_tuple()
                .filter(|p| p.len() == 3)
                .ok_or_else(|| bad("each clause is a tuple {Head, Guards, Body}"))?;
            let guards = parts[1]
                .as_list()
                .ok_or_else(|| bad("guards must be a list"))?;
            let body = parts[2]
                .as_list()
                .ok_or_else(|| bad("the body must be a list"))?;
            if body.is_empty() {
                return Err(bad("the body must hold at least one expression"));
            }
            out.push(Self::clause(
                &parts[0],
                guards,
                body,
                keypos,
                EtsError::BadMatchSpec,
            )?);
        }
        Ok(MatchSpec { clauses: out })
    }

    /// Compiles a match pattern with the given body: `['$$']` for `match`, `['$_']` for
    /// `match_object`, `[true]` for `match_delete`.
    pub(crate) fn from_pattern(
        pattern: &Term,
        body: &str,
        keypos: usize,
    ) -> Result<MatchSpec, EtsError> {
        let body = [Term::atom(body)];
        let clause = Self::clause(pattern, &[], &body, keypos, EtsError::BadPattern)?;
        Ok(MatchSpec {
            clauses: vec![clause],
        })
    }

    fn clause(
        head: &Term,
        guards: &[Term],
        body: &[Term],
        keypos: usize,
        err: fn(String) -> EtsError,
    ) -> Result<Clause, EtsError> {
        check_head(head, err)?;
        let mut hc = HeadCompiler { vars: Vec::new() };
        let pat = hc.pat(head);
        let vars = hc.vars;
        let mut by_number: Vec<usize> = (0..vars.len()).collect();
        by_number.sort_by_key(|&s| vars[s]);
        let guards = guards
            .iter()
            .map(|g| expr(g, &vars, "guard"))
            .collect::<Result<_, _>>()?;
        let body = body
            .iter()
            .map(|b| expr(b, &vars, "body"))
            .collect::<Result<_, _>>()?;
        let key_pattern = head.as_tuple().and_then(|t| t.get(keypos.checked_sub(1)?));
        let bound_key = key_pattern.filter(|k| !has_vars(k)).cloned();
        let key_range = key_pattern
            .filter(|k| has_vars(k))
            .and_then(Term::as_tuple)
            .and_then(|elems| {
                let bound = elems.iter().take_while(|e| !has_vars(e)).count();
                (bound > 0).then(|| KeyRange {
                    arity: elems.len(),
                    prefix: elems[..bound].to_vec(),
                })
            });
        Ok(Clause {
            head: pat,
            vars,
            by_number,
            guards,
            body,
            bound_key,
            key_range,
        })
    }

    /// The keys to look up when every clause binds the key to a constant, else `None` (scan).
    pub(crate) fn bound_keys(&self) -> Option<Vec<Term>> {
        let mut keys: Vec<Term> = Vec::new();
        for c in &self.clauses {
            let k = c.bound_key.as_ref()?;
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        Some(keys)
    }

    /// The key range to scan in an `ordered_set`, for a one-clause spec whose key is a tuple
    /// with a bound prefix.
    pub(crate) fn key_range(&self) -> Option<&KeyRange> {
        match &self.clauses[..] {
            [c] => c.key_range.as_ref(),
            _ => None,
        }
    }

    /// Runs the spec on one object as a table stores it: the result of the first clause whose
    /// head matches and whose guards hold, or `None`. A pair of numbers is matched element by
    /// element without building its tuple; the tuple is built only if the result (`'$_'`) or a
    /// head that is not a tuple pattern needs the whole object.
    pub(crate) fn run_stored(&self, obj: &Stored) -> Option<Term> {
        obj.with_elements(|elems| {
            let whole = || obj.to_term();
            for c in &self.clauses {
                let mut b: Vec<Option<&Term>> = vec![None; c.vars.len()];
                let owned;
                let matched = match &c.head {
                    Pat::Tuple(ps) => {
                        ps.len() == elems.len()
                            && ps.iter().zip(elems).all(|(p, t)| bind(p, t, &mut b))
                    }
                    head => {
                        owned = obj.to_term();
                        bind(head, &owned, &mut b)
                    }
                };
                if !matched {
                    continue;
                }
                let env = Env {
                    whole: &whole,
                    bindings: &b,
                    by_number: &c.by_number,
                };
                let pass = c
                    .guards
                    .iter()
                    .all(|g| matches!(env.eval(g), Ok(t) if t.is_atom("true")));
                if !pass {
                    continue;
                }
                let mut result = Term::atom("EXIT");
                for e in &c.body {
                    match env.eval(e) {
                        Ok(t) => result = t,
                        Err(()) => {
                            result = Term::atom("EXIT");
                            break;
                        }
                    }
                }
                return Some(result);
            }
            None
        })
    }
}

fn bind<'a>(p: &Pat, t: &'a Term, b: &mut [Option<&'a Term>]) -> bool {
    match p {
        Pat::Any => true,
        Pat::Var(s) => match b[*s] {
            Some(prev) => prev == t,
            None => {
                b[*s] = Some(t);
                true
            }
        },
        Pat::Const(c) => c == t,
        Pat::Tuple(ps) => match t {
            Term::Tuple(v) => {
                v.len() == ps.len() && ps.iter().zip(v.iter()).all(|(p, t)| bind(p, t, b))
            }
            _ => false,
        },
        Pat::List(ps) => match t {
            Term::List(v) => {
                v.len() == ps.len() && ps.iter().zip(v.iter()).all(|(p, t)| bind(p, t, b))
            }
            _ => false,
        },
        Pat::Map(ps) => match t {
            Term::Map(m) => ps
                .iter()
                .all(|(k, p)| m.get(k).is_some_and(|v| bind(p, v, b))),
            _ => false,
        },
    }
}

struct Env<'a, 'b> {
    /// Builds the whole object, for `'$_'`.
    whole: &'b dyn Fn() -> Term,
    bindings: &'b [Option<&'a Term>],
    by_number: &'b [usize],
}

type R = Result<Term, ()>;

fn int(t: &Term) -> Result<i64, ()> {
    t.as_int().ok_or(())
}

fn num(t: &Term) -> Result<f64, ()> {
    match t {
        Term::Int(i) => Ok(*i as f64),
        Term::Float(f) => Ok(*f),
        _ => Err(()),
    }
}

fn boolean(t: &Term) -> Result<bool, ()> {
    match t.as_atom() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(()),
    }
}

fn finite(f: f64) -> R {
    if f.is_finite() {
        Ok(Term::Float(f))
    } else {
        Err(())
    }
}

/// Integer arithmetic stays integer (failing on overflow); anything with a float is float.
fn arith(a: &Term, b: &Term, i: fn(i64, i64) -> Option<i64>, f: fn(f64, f64) -> f64) -> R {
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => i(*x, *y).map(Term::Int).ok_or(()),
        _ => finite(f(num(a)?, num(b)?)),
    }
}

fn float_to_int(f: f64) -> R {
    if f.is_finite() && (-9.223_372_036_854_775e18..=9.223_372_036_854_775e18).contains(&f) {
        Ok(Term::Int(f as i64))
    } else {
        Err(())
    }
}

impl Env<'_, '_> {
    fn eval(&self, e: &Expr) -> R {
        match e {
            Expr::Const(t) => Ok(t.clone()),
            Expr::Var(s) => self.bindings[*s].cloned().ok_or(()),
            Expr::Object => Ok((self.whole)()),
            Expr::Bindings => Ok(Term::List(
                self.by_number
                    .iter()
                    .map(|&s| self.bindings[s].cloned().ok_or(()))
                    .collect::<Result<_, _>>()?,
            )),
            Expr::Tuple(v) => Ok(Term::Tuple(
                v.iter().map(|e| self.eval(e)).collect::<Result<_, _>>()?,
            )),
            Expr::List(v) => Ok(Term::List(
                v.iter().map(|e| self.eval(e)).collect::<Result<_, _>>()?,
            )),
            Expr::Map(v) => Ok(Term::Map(Box::new(
                v.iter()
                    .map(|(k, e)| Ok((k.clone(), self.eval(e)?)))
                    .collect::<Result<BTreeMap<_, _>, ()>>()?,
            ))),
            Expr::Call(f, args) => self.call(*f, args),
        }
    }

    fn call(&self, f: Fun, args: &[Expr]) -> R {
        use Fun::*;
        // Short-circuit operators evaluate their arguments lazily.
        match f {
            AndAlso => {
                for a in args {
                    if !boolean(&self.eval(a)?)? {
                        return Ok(false.into());
                    }
                }
                return Ok(true.into());
            }
            OrElse => {
                for a in args {
                    if boolean(&self.eval(a)?)? {
                        return Ok(true.into());
                    }
                }
                return Ok(false.into());
            }
            _ => {}
        }
        let v: Vec<Term> = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<_, _>>()?;
        let a = v.first();
        let b = v.get(1);
        let one = || a.ok_or(());
        let two = || Ok::<_, ()>((a.ok_or(())?, b.ok_or(())?));
        Ok(match f {
            IsAtom => matches!(one()?, Term::Atom(_)).into(),
            IsFloat => matches!(one()?, Term::Float(_)).into(),
            IsInteger => matches!(one()?, Term::Int(_)).into(),
            IsList => matches!(one()?, Term::List(_)).into(),
            IsNumber => matches!(one()?, Term::Int(_) | Term::Float(_)).into(),
            IsPid => matches!(one()?, Term::Pid(_)).into(),
            IsReference => matches!(one()?, Term::Ref(_)).into(),
            IsTuple => matches!(one()?, Term::Tuple(_)).into(),
            IsMap => matches!(one()?, Term::Map(_)).into(),
            IsBinary => matches!(one()?, Term::Binary(_)).into(),
            IsPort | IsFunction => false.into(),
            IsRecord => {
                let size = int(v.get(2).ok_or(())?)?;
                let (t, tag) = two()?;
                match t.as_tuple() {
                    Some(e) => (e.len() as i64 == size && e.first() == Some(tag)).into(),
                    None => false.into(),
                }
            }
            IsMapKey => {
                let (k, m) = two()?;
                match m {
                    Term::Map(m) => m.contains_key(k).into(),
                    _ => return Err(()),
                }
            }
            Not => (!boolean(one()?)?).into(),
            And => {
                let (x, y) = two()?;
                (boolean(x)? & boolean(y)?).into()
            }
            Or => {
                let (x, y) = two()?;
                (boolean(x)? | boolean(y)?).into()
            }
            Xor => {
                let (x, y) = two()?;
                (boolean(x)? ^ boolean(y)?).into()
            }
            AndAlso | OrElse => return Err(()),
            Abs => match one()? {
                Term::Int(i) => Term::Int(i.checked_abs().ok_or(())?),
                Term::Float(x) => Term::Float(x.abs()),
                _ => return Err(()),
            },
            Element => {
                let (n, t) = two()?;
                let n = usize::try_from(int(n)?).map_err(|_| ())?;
                let e = t.as_tuple().ok_or(())?;
                e.get(n.checked_sub(1).ok_or(())?).cloned().ok_or(())?
            }
            Hd => one()?
                .as_list()
                .and_then(|l| l.first())
                .cloned()
                .ok_or(())?,
            Tl => {
                let l = one()?.as_list().ok_or(())?;
                if l.is_empty() {
                    return Err(());
                }
                Term::List(l[1..].into())
            }
            Length => Term::Int(one()?.as_list().ok_or(())?.len() as i64),
            MapGet => {
                let (k, m) = two()?;
                match m {
                    Term::Map(m) => m.get(k).cloned().ok_or(())?,
                    _ => return Err(()),
                }
            }
            MapSize => match one()? {
                Term::Map(m) => Term::Int(m.len() as i64),
                _ => return Err(()),
            },
            Max => {
                let (x, y) = two()?;
                if x.compare(y) == Ordering::Less {
                    y.clone()
                } else {
                    x.clone()
                }
            }
            Min => {
                let (x, y) = two()?;
                if y.compare(x) == Ordering::Less {
                    y.clone()
                } else {
                    x.clone()
                }
            }
            Float => finite(num(one()?)?)?,
            Round => match one()? {
                Term::Int(i) => Term::Int(*i),
                t => float_to_int(num(t)?.round())?,
            },
            Floor => match one()? {
                Term::Int(i) => Term::Int(*i),
                t => float_to_int(num(t)?.floor())?,
            },
            Ceil => match one()? {
                Term::Int(i) => Term::Int(*i),
                t => float_to_int(num(t)?.ceil())?,
            },
            Trunc => match one()? {
                Term::Int(i) => Term::Int(*i),
                t => float_to_int(num(t)?.trunc())?,
            },
            Size => match one()? {
                Term::Tuple(t) => Term::Int(t.len() as i64),
                Term::Binary(b) => Term::Int(b.len() as i64),
                _ => return Err(()),
            },
            TupleSize => Term::Int(one()?.as_tuple().ok_or(())?.len() as i64),
            ByteSize => Term::Int(one()?.as_binary().ok_or(())?.len() as i64),
            BitSize => Term::Int(one()?.as_binary().ok_or(())?.len() as i64 * 8),
            Add if v.len() == 1 => {
                num(one()?)?;
                one()?.clone()
            }
            Sub if v.len() == 1 => match one()? {
                Term::Int(i) => Term::Int(i.checked_neg().ok_or(())?),
                Term::Float(x) => Term::Float(-x),
                _ => return Err(()),
            },
            Add => {
                let (x, y) = two()?;
                arith(x, y, i64::checked_add, |a, b| a + b)?
            }
            Sub => {
                let (x, y) = two()?;
                arith(x, y, i64::checked_sub, |a, b| a - b)?
            }
            Mul => {
                let (x, y) = two()?;
                arith(x, y, i64::checked_mul, |a, b| a * b)?
            }
            Div => {
                let (x, y) = two()?;
                let d = num(y)?;
                if d == 0.0 {
                    return Err(());
                }
                finite(num(x)? / d)?
            }
            IntDiv => {
                let (x, y) = two()?;
                Term::Int(int(x)?.checked_div(int(y)?).ok_or(())?)
            }
            Rem => {
                let (x, y) = two()?;
                Term::Int(int(x)?.checked_rem(int(y)?).ok_or(())?)
            }
            Band => {
                let (x, y) = two()?;
                Term::Int(int(x)? & int(y)?)
            }
            Bor => {
                let (x, y) = two()?;
                Term::Int(int(x)? | int(y)?)
            }
            Bxor => {
                let (x, y) = two()?;
                Term::Int(int(x)? ^ int(y)?)
            }
            Bnot => Term::Int(!int(one()?)?),
            Bsl => {
                let (x, y) = two()?;
                let s = u32::try_from(int(y)?).map_err(|_| ())?;
                let x = int(x)?;
                let r = x.checked_shl(s).ok_or(())?;
                if r >> s != x {
                    return Err(());
                }
                Term::Int(r)
            }
            Bsr => {
                let (x, y) = two()?;
                let s = u32::try_from(int(y)?).map_err(|_| ())?.min(63);
                Term::Int(int(x)? >> s)
            }
            Gt => {
                let (x, y) = two()?;
                (x.compare(y) == Ordering::Greater).into()
            }
            Ge => {
                let (x, y) = two()?;
                (x.compare(y) != Ordering::Less).into()
            }
            Lt => {
                let (x, y) = two()?;
                (x.compare(y) == Ordering::Less).into()
            }
            Le => {
                let (x, y) = two()?;
                (x.compare(y) != Ordering::Greater).into()
            }
            ExactEq => {
                let (x, y) = two()?;
                (x == y).into()
            }
            Eq => {
                let (x, y) = two()?;
                x.equals(y).into()
            }
            ExactNe => {
                let (x, y) = two()?;
                (x != y).into()
            }
            Ne => {
                let (x, y) = two()?;
                (!x.equals(y)).into()
            }
            SelfPid => Term::Pid(runtime::self_pid()),
            Node => Term::atom("nonode@nohost"),
        })
    }
}
