//! The plan for machines: the saved plan's JSON (`plan --format json`, `--out`), and,
//! after an apply, the same document with what happened to each user.

use std::io::{self, Write};

use crate::plan::{Applied, Plan};

pub fn plan(w: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    w.write_all(plan.to_json().as_bytes())
}

/// The plan with `applied`: one entry per user, in the plan's order.
pub fn applied(w: &mut dyn Write, plan: &Plan, applied: Vec<Applied>) -> io::Result<()> {
    let done = Plan {
        applied: Some(applied),
        ..plan.clone()
    };
    w.write_all(done.to_json().as_bytes())
}
