//! The deterministic choice of the START commands that the agent fails (`--fail-fraction`).

/// Whether source `source_name`'s `nth` START command (1, 2, …) is acknowledged with
/// `result: fail`. The choice depends only on `seed`, the name and `nth`, so a run with the same
/// seed and sources fails the same rounds, and a restarted task gets a fresh draw. About
/// `fraction` of all STARTs fail: none at 0.0, all at 1.0.
pub fn fails(seed: u64, source_name: &str, nth: u64, fraction: f64) -> bool {
    unit(seed, source_name, nth) < fraction
}

/// A uniform draw in [0, 1) from FNV-1a over the inputs, mixed by SplitMix64's finalizer
/// (stable across Rust releases, unlike `DefaultHasher`).
fn unit(seed: u64, name: &str, nth: u64) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.to_le_bytes().iter().chain(name.as_bytes()).chain(&nth.to_le_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// The `result_detail` of a failed START (stored by the service as the task's `error_json`).
pub fn failure_detail() -> serde_json::Value {
    serde_json::json!({ "error_code": "SMS.0515", "error_param": "[]" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(seed: u64, fraction: f64) -> usize {
        (0..2000).filter(|i| fails(seed, &format!("sim-agent-{i}"), 1, fraction)).count()
    }

    #[test]
    fn the_extremes_are_exact() {
        assert_eq!(failed(1, 0.0), 0);
        assert_eq!(failed(1, 1.0), 2000);
    }

    #[test]
    fn about_the_fraction_fails() {
        for fraction in [0.1, 0.25, 0.5, 0.9] {
            let share = failed(42, fraction) as f64 / 2000.0;
            assert!((share - fraction).abs() < 0.04, "{fraction}: {share}");
        }
    }

    #[test]
    fn the_seed_decides_and_rounds_draw_afresh() {
        let pick = |seed| (0..200).map(|i| fails(seed, &format!("s-{i}"), 1, 0.5)).collect::<Vec<_>>();
        assert_eq!(pick(7), pick(7));
        assert_ne!(pick(7), pick(8));
        let rounds: Vec<bool> = (1..=200).map(|nth| fails(7, "s-0", nth, 0.5)).collect();
        assert!(rounds.contains(&true) && rounds.contains(&false));
        // A larger fraction fails a superset.
        assert!((0..500).all(|i| !fails(3, &format!("s-{i}"), 1, 0.3) || fails(3, &format!("s-{i}"), 1, 0.6)));
    }
}
