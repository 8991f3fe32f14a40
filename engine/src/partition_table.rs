//! Which core owns each state partition.
//!
//! Keys the app listed up front (`to_state_partition(..., partition_keys)`) are dealt to
//! cores round-robin in list order, so they are spread evenly. Any other key is placed by
//! its stable hash into one of [`VIRTUAL_PARTITIONS`] slots, and slot `s` belongs to core
//! `s % cores`. The table is built once at start-up and only read afterwards, so every
//! core consults it without locks. A `to_stateful` state has the single key `None` and
//! so lives on one core.

use model::{Placement, Topology, Value, ValueMap};

/// Slots for unlisted keys; a multiple of any small core count, so slots divide evenly.
pub const VIRTUAL_PARTITIONS: usize = 5040;

pub struct PartitionTable {
    cores: usize,
    /// Per state: listed key -> owning core (empty for states without listed keys).
    listed: Vec<ValueMap<usize>>,
}

impl PartitionTable {
    pub fn new(topology: &Topology, cores: usize) -> PartitionTable {
        let listed = topology
            .states
            .iter()
            .map(|state| {
                state
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, key)| (key.clone(), i % cores))
                    .collect()
            })
            .collect();
        PartitionTable { cores, listed }
    }

    /// How many listed keys and hash slots `core` owns, for the start-up report.
    pub fn owned_by(&self, core: usize) -> (usize, usize) {
        let listed = self
            .listed
            .iter()
            .flat_map(|keys| keys.values())
            .filter(|&&owner| owner == core)
            .count();
        let slots = (0..VIRTUAL_PARTITIONS)
            .filter(|slot| slot % self.cores == core)
            .count();
        (listed, slots)
    }
}

impl Placement for PartitionTable {
    fn owner(&self, state: usize, key: &Value) -> usize {
        if self.cores == 1 {
            return 0;
        }
        let listed = &self.listed[state];
        if !listed.is_empty() {
            if let Some(&core) = listed.get(key) {
                return core;
            }
        }
        let slot = (key.stable_hash() % VIRTUAL_PARTITIONS as u64) as usize;
        slot % self.cores
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::topology::StateSpec;

    fn topology(keys: Vec<Value>) -> Topology {
        Topology {
            name: "t".into(),
            sources: vec![],
            chains: vec![],
            sinks: vec![],
            states: vec![StateSpec {
                name: "s".into(),
                keys,
                keyed: false,
            }],
        }
    }

    #[test]
    fn listed_keys_are_spread_evenly() {
        let letters: Vec<Value> = ('a'..='z')
            .map(|c| Value::Str(c.to_string().into()))
            .collect();
        let table = PartitionTable::new(&topology(letters.clone()), 2);
        let on_core_0 = letters.iter().filter(|k| table.owner(0, k) == 0).count();
        assert_eq!(on_core_0, 13);
        assert_eq!(table.owned_by(0).0, 13);
        assert_eq!(table.owned_by(1).0, 13);
    }

    #[test]
    fn unlisted_keys_are_stable_and_cover_every_core() {
        let table = PartitionTable::new(&topology(vec![]), 3);
        let owners: Vec<usize> = (0..300).map(|i| table.owner(0, &Value::Int(i))).collect();
        let again: Vec<usize> = (0..300).map(|i| table.owner(0, &Value::Int(i))).collect();
        assert_eq!(owners, again);
        for core in 0..3 {
            let share = owners.iter().filter(|&&o| o == core).count();
            assert!(
                (60..=140).contains(&share),
                "core {core} owns {share} of 300 keys"
            );
        }
    }

    #[test]
    fn one_core_owns_everything() {
        let table = PartitionTable::new(&topology(vec![Value::Int(1)]), 1);
        assert_eq!(table.owner(0, &Value::Int(1)), 0);
        assert_eq!(table.owner(0, &Value::Str("x".into())), 0);
    }
}
