//! A bound on the bytes one core's source connections hold that are not yet whole frames.
//!
//! Each connection's buffer grows only with the bytes its peer sent, but many peers that
//! each send part of a large frame (or announce one and send nothing more) could still
//! hold any amount of memory between them. Over the bound, connections stop reading,
//! except one: the first to ask while it holds a partial frame may go on until that frame
//! is whole (or it closes), so partial frames always complete one at a time and the
//! bound cannot stall every connection for good.

use std::cell::Cell;

/// One core's count of bytes held in its connections' frame buffers.
pub struct InputBudget {
    limit: usize,
    held: Cell<usize>,
    /// The connection allowed to read on while the core is over its limit.
    finishing: Cell<Option<u64>>,
    next_connection: Cell<u64>,
}

impl InputBudget {
    pub fn new(limit: usize) -> InputBudget {
        InputBudget {
            limit,
            held: Cell::new(0),
            finishing: Cell::new(None),
            next_connection: Cell::new(0),
        }
    }

    /// A connection of this core, holding nothing yet.
    pub fn open(&self) -> ConnectionBudget<'_> {
        let id = self.next_connection.get();
        self.next_connection.set(id + 1);
        ConnectionBudget {
            budget: self,
            id,
            holding: 0,
        }
    }

    /// Bytes held by every connection together.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.get()
    }
}

/// What one connection holds of its core's budget; released when it drops.
pub struct ConnectionBudget<'a> {
    budget: &'a InputBudget,
    id: u64,
    holding: usize,
}

impl ConnectionBudget<'_> {
    /// Whether this connection may read now.
    pub fn may_read(&self) -> bool {
        let budget = self.budget;
        if budget.held.get() <= budget.limit {
            return true;
        }
        match budget.finishing.get() {
            Some(id) => id == self.id,
            None if self.holding > 0 => {
                budget.finishing.set(Some(self.id));
                true
            }
            None => false,
        }
    }

    /// The connection now holds `bytes` (its frame buffer's pending bytes).
    pub fn hold(&mut self, bytes: usize) {
        let budget = self.budget;
        budget.held.set(budget.held.get() - self.holding + bytes);
        self.holding = bytes;
        if bytes == 0 && budget.finishing.get() == Some(self.id) {
            budget.finishing.set(None);
        }
    }
}

impl Drop for ConnectionBudget<'_> {
    fn drop(&mut self) {
        self.hold(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_limit_every_connection_reads() {
        let budget = InputBudget::new(100);
        let mut a = budget.open();
        let b = budget.open();
        a.hold(100);
        assert!(a.may_read() && b.may_read());
        assert_eq!(budget.held(), 100);
    }

    #[test]
    fn over_the_limit_only_one_connection_with_a_partial_frame_reads_on() {
        let budget = InputBudget::new(100);
        let (mut a, mut b, c) = (budget.open(), budget.open(), budget.open());
        a.hold(60);
        b.hold(60);
        assert!(!c.may_read(), "a connection holding nothing waits");
        assert!(b.may_read(), "the first holder to ask finishes its frame");
        assert!(!a.may_read(), "the others wait for it");
        b.hold(0);
        assert!(a.may_read() && c.may_read(), "back under the limit");
    }

    #[test]
    fn a_finishing_connection_that_closes_lets_another_finish() {
        let budget = InputBudget::new(100);
        let (mut a, mut b) = (budget.open(), budget.open());
        a.hold(80);
        b.hold(80);
        assert!(a.may_read());
        drop(a);
        assert_eq!(budget.held(), 80);
        assert!(b.may_read());
    }
}
