//! A text view of a live supervision tree.

use std::fmt::Write;
use std::time::Duration;

use runtime::Pid;

use crate::api::{ChildPid, Supervisor};
use crate::spec::ChildType;

/// Renders the tree under the supervisor `root`: each supervisor with its strategy and restart
/// count, each child with its id, pid (or `:restarting` / `:undefined`), type and restart type.
/// Nested supervisors are walked as well; a supervisor that stops answering (it is being
/// restarted right now) is shown as such instead of failing the whole view.
///
/// ```text
/// Supervisor <0.12.0> "todo_system" one_for_one, restarts 0/3 in 5s
/// ├── worker "database" <0.13.0> permanent
/// ├── supervisor "servers" <0.14.0> permanent
/// │   └── DynamicSupervisor <0.14.0> one_for_one, restarts 0/3 in 5s, 1 children
/// │       └── worker <0.20.0> temporary
/// └── worker "cache" :restarting permanent
/// ```
pub fn render_tree(root: Pid) -> String {
    let mut out = String::new();
    render(root, "", &mut out);
    out
}

/// How long the view waits for each supervisor. A child of type supervisor may be a process
/// that never answers supervisor requests (a plain process, a server of another kind); the
/// requests' usual infinite wait would hang the whole view on it.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

fn render(pid: Pid, indent: &str, out: &mut String) {
    let sup = Supervisor::from_pid(pid);
    let Ok(d) = sup.describe_within(Some(ANSWER_WITHIN)) else {
        // Like the header line below, this line is drawn after the branch the caller wrote.
        let _ = writeln!(out, "(supervisor {pid} is not answering)");
        return;
    };
    let name = d
        .name
        .as_ref()
        .map(|n| format!(" {n:?}"))
        .unwrap_or_default();
    let kind = if d.dynamic {
        "DynamicSupervisor"
    } else {
        "Supervisor"
    };
    let children = sup
        .which_children_within(Some(ANSWER_WITHIN))
        .unwrap_or_default();
    let mut line = format!(
        "{kind} {}{name} {}, restarts {}/{} in {}s",
        d.pid,
        d.strategy,
        d.restarts_in_window,
        d.max_restarts,
        d.max_seconds.as_secs_f64()
    );
    if d.dynamic {
        let _ = write!(line, ", {} children", children.len());
        if let Some(m) = d.max_children {
            let _ = write!(line, " (max {m})");
        }
    }
    let _ = writeln!(out, "{line}");
    let n = children.len();
    for (i, c) in children.iter().enumerate() {
        let last = i + 1 == n;
        let branch = if last { "└── " } else { "├── " };
        let id =
            c.id.as_ref()
                .map(|id| format!(" {id:?}"))
                .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}{branch}{}{id} {} {}",
            c.kind, c.pid, c.restart
        );
        if let (ChildType::Supervisor, ChildPid::Pid(p)) = (c.kind, c.pid) {
            let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
            out.push_str(&deeper);
            out.push_str("└── ");
            let mut sub = String::new();
            render(p, &format!("{deeper}    "), &mut sub);
            out.push_str(&sub);
        }
    }
}
