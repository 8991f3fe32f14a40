//! Checkpoints on disk: `DIR/epoch-N/core-I.snap` (one core's entries, see
//! `model::snapshot`) and `DIR/epoch-N/manifest`, written last (to a temporary name,
//! fsynced, renamed, the directories fsynced). A checkpoint is complete when its manifest
//! is there and every core file has the size and checksum the manifest gives. The two
//! newest epochs are kept.

use model::value::Fnv1a;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

const FORMAT: &str = "roo-checkpoint 1";

/// What a checkpoint's manifest says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub app: String,
    /// A hash of the app's shape (its states and sources, by name): a checkpoint of
    /// another app, or of a changed one, is refused.
    pub shape: u64,
    pub epoch: u64,
    /// (size, checksum) of each core's file.
    pub cores: Vec<(u64, u64)>,
    /// Per Kafka source (by source index): the next offset of each partition.
    pub kafka: BTreeMap<usize, BTreeMap<i32, i64>>,
}

pub fn checksum(bytes: &[u8]) -> u64 {
    let mut hasher = Fnv1a::default();
    hasher.write(bytes);
    hasher.finish()
}

fn epoch_dir(dir: &Path, epoch: u64) -> PathBuf {
    dir.join(format!("epoch-{epoch:012}"))
}

fn core_file(dir: &Path, epoch: u64, core: usize) -> PathBuf {
    epoch_dir(dir, epoch).join(format!("core-{core}.snap"))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

impl Manifest {
    fn render(&self) -> String {
        let mut text = format!(
            "{FORMAT}\napp {}\nshape {:016x}\nepoch {}\n",
            self.app, self.shape, self.epoch
        );
        for (core, (size, sum)) in self.cores.iter().enumerate() {
            text += &format!("core {core} {size} {sum:016x}\n");
        }
        for (source, partitions) in &self.kafka {
            for (partition, offset) in partitions {
                text += &format!("kafka {source} {partition} {offset}\n");
            }
        }
        text + "end\n"
    }

    fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text.lines();
        if lines.next() != Some(FORMAT) {
            return Err("not a roo checkpoint manifest".into());
        }
        let mut manifest = Manifest {
            app: String::new(),
            shape: 0,
            epoch: 0,
            cores: vec![],
            kafka: BTreeMap::new(),
        };
        let bad = |line: &str| format!("bad manifest line '{line}'");
        let mut ended = false;
        for line in lines {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let fields: Vec<&str> = rest.split(' ').collect();
            match word {
                "app" => manifest.app = rest.to_string(),
                "shape" => manifest.shape = u64::from_str_radix(rest, 16).map_err(|_| bad(line))?,
                "epoch" => manifest.epoch = rest.parse().map_err(|_| bad(line))?,
                "core" if fields.len() == 3 => {
                    let size = fields[1].parse().map_err(|_| bad(line))?;
                    let sum = u64::from_str_radix(fields[2], 16).map_err(|_| bad(line))?;
                    manifest.cores.push((size, sum));
                }
                "kafka" if fields.len() == 3 => {
                    let source = fields[0].parse().map_err(|_| bad(line))?;
                    let partition = fields[1].parse().map_err(|_| bad(line))?;
                    let offset = fields[2].parse().map_err(|_| bad(line))?;
                    manifest
                        .kafka
                        .entry(source)
                        .or_default()
                        .insert(partition, offset);
                }
                "end" => ended = true,
                _ => return Err(bad(line)),
            }
        }
        match ended {
            true => Ok(manifest),
            false => Err("the manifest is cut short".into()),
        }
    }
}

/// Writes the checkpoint of `manifest.epoch`: every core's body, then the manifest; then
/// removes epochs older than the one before it. `manifest.cores` is filled in here.
pub fn write(dir: &Path, mut manifest: Manifest, bodies: &[Vec<u8>]) -> std::io::Result<()> {
    let epoch = manifest.epoch;
    let here = epoch_dir(dir, epoch);
    fs::create_dir_all(&here)?;
    manifest.cores.clear();
    for (core, body) in bodies.iter().enumerate() {
        write_synced(&core_file(dir, epoch, core), body)?;
        manifest.cores.push((body.len() as u64, checksum(body)));
    }
    let temporary = here.join("manifest.tmp");
    write_synced(&temporary, manifest.render().as_bytes())?;
    fs::rename(&temporary, here.join("manifest"))?;
    sync_dir(&here)?;
    sync_dir(dir)?;
    for old in epochs(dir)?.into_iter().filter(|&e| e + 1 < epoch) {
        fs::remove_dir_all(epoch_dir(dir, old))?;
    }
    Ok(())
}

/// The epochs that have a directory in `dir`, newest first.
fn epochs(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut epochs: Vec<u64> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.strip_prefix("epoch-"))
                    .and_then(|n| n.parse().ok())
            })
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(error) => return Err(error),
    };
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    Ok(epochs)
}

/// The epoch after every one in `dir` (complete or not), so a new checkpoint never
/// rewrites an old one's files.
pub fn next_epoch(dir: &Path) -> std::io::Result<u64> {
    Ok(epochs(dir)?.first().map_or(1, |newest| newest + 1))
}

/// The oldest complete checkpoint in `dir` (None if there is none).
pub fn oldest(dir: &Path) -> Result<Option<Loaded>, String> {
    let epochs = epochs(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    Ok(epochs
        .into_iter()
        .rev()
        .find_map(|epoch| load(dir, epoch).ok()))
}

/// Removes every epoch after `epoch` (complete or not): checkpoints whose sinks'
/// transactions were never committed, so that they are neither restored nor kept in
/// place of the committed one.
pub fn remove_after(dir: &Path, epoch: u64) -> std::io::Result<()> {
    for newer in epochs(dir)?.into_iter().filter(|&e| e > epoch) {
        fs::remove_dir_all(epoch_dir(dir, newer))?;
    }
    Ok(())
}

/// A complete checkpoint read back.
pub struct Loaded {
    pub manifest: Manifest,
    pub bodies: Vec<Vec<u8>>,
}

/// The newest complete checkpoint in `dir` that `accept` takes (None if there is none),
/// with a log line for each newer one that is torn, corrupt or not accepted (and why).
pub fn newest(
    dir: &Path,
    accept: impl Fn(&Manifest) -> Result<(), String>,
) -> Result<Option<Loaded>, String> {
    let epochs = epochs(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for epoch in epochs {
        match load(dir, epoch).and_then(|loaded| accept(&loaded.manifest).map(|()| loaded)) {
            Ok(loaded) => return Ok(Some(loaded)),
            Err(why) => eprintln!(
                "roo: checkpoint {} is not usable ({why}); trying the one before it",
                epoch_dir(dir, epoch).display()
            ),
        }
    }
    Ok(None)
}

fn load(dir: &Path, epoch: u64) -> Result<Loaded, String> {
    let path = epoch_dir(dir, epoch).join("manifest");
    let text = fs::read_to_string(&path).map_err(|e| format!("no manifest: {e}"))?;
    let manifest = Manifest::parse(&text)?;
    if manifest.epoch != epoch {
        return Err(format!("its manifest says epoch {}", manifest.epoch));
    }
    let mut bodies = vec![];
    for (core, &(size, sum)) in manifest.cores.iter().enumerate() {
        let body = fs::read(core_file(dir, epoch, core))
            .map_err(|e| format!("core {core}'s file: {e}"))?;
        if body.len() as u64 != size || checksum(&body) != sum {
            return Err(format!("core {core}'s file does not match its checksum"));
        }
        bodies.push(body);
    }
    Ok(Loaded { manifest, bodies })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roo-ckpt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn manifest(epoch: u64) -> Manifest {
        Manifest {
            app: "Word Count".into(),
            shape: 0xabc,
            epoch,
            cores: vec![],
            kafka: BTreeMap::from([(0, BTreeMap::from([(0, 17), (3, 5)]))]),
        }
    }

    #[test]
    fn the_newest_complete_checkpoint_is_read_back_and_two_are_kept() {
        let dir = temp_dir("newest");
        for epoch in 1..=4 {
            let bodies = vec![vec![epoch as u8; 10], vec![]];
            write(&dir, manifest(epoch), &bodies).unwrap();
        }
        assert_eq!(epochs(&dir).unwrap(), [4, 3]);
        assert_eq!(next_epoch(&dir).unwrap(), 5);
        let loaded = newest(&dir, |_| Ok(())).unwrap().expect("a checkpoint");
        assert_eq!(loaded.manifest.epoch, 4);
        assert_eq!(loaded.manifest.kafka, manifest(4).kafka);
        assert_eq!(loaded.bodies, [vec![4u8; 10], vec![]]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_or_corrupt_checkpoint_falls_back_to_the_one_before() {
        let dir = temp_dir("torn");
        write(&dir, manifest(1), &[vec![1; 100]]).unwrap();
        write(&dir, manifest(2), &[vec![2; 100]]).unwrap();
        // Epoch 2's core file corrupted: epoch 1 is used.
        let mut body = fs::read(core_file(&dir, 2, 0)).unwrap();
        body[50] ^= 1;
        fs::write(core_file(&dir, 2, 0), body).unwrap();
        assert_eq!(newest(&dir, |_| Ok(())).unwrap().unwrap().manifest.epoch, 1);
        // An epoch without its manifest (cut before it was renamed): also skipped.
        fs::create_dir_all(epoch_dir(&dir, 3)).unwrap();
        fs::write(core_file(&dir, 3, 0), b"partial").unwrap();
        assert_eq!(newest(&dir, |_| Ok(())).unwrap().unwrap().manifest.epoch, 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_not_accepted_falls_back_to_the_one_before() {
        let dir = temp_dir("accept");
        write(&dir, manifest(1), &[vec![1; 10]]).unwrap();
        write(&dir, manifest(2), &[vec![2; 10]]).unwrap();
        let before_two = |m: &Manifest| match m.epoch {
            2 => Err("not committed".to_string()),
            _ => Ok(()),
        };
        assert_eq!(newest(&dir, before_two).unwrap().unwrap().manifest.epoch, 1);
        assert!(newest(&dir, |_| Err("no".into())).unwrap().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_manifest_reads_back_as_written_and_a_cut_one_is_refused() {
        let mut written = manifest(9);
        written.cores = vec![(10, 0xfeed), (0, 1)];
        let text = written.render();
        assert_eq!(Manifest::parse(&text).unwrap(), written);
        assert!(Manifest::parse(&text[..text.len() - 4]).is_err());
    }
}
