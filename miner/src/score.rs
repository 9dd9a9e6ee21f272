//! Scoring: how often a routine runs, how long it takes, how standardized and automatable it is, and
//! the hours a month that automating it would save. Every figure is kept as evidence.

use serde::{Deserialize, Serialize};

use crate::routine::Discovered;

/// Weeks in a month, on average (52 / 12).
pub const WEEKS_PER_MONTH: f64 = 52.0 / 12.0;

/// The evidence for a routine. Units are in the field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub instances: u64,
    pub instances_per_week: f64,
    pub median_duration_s: f64,
    pub p90_duration_s: f64,
    pub variants: u64,
    /// The share of instances that follow the most frequent variant (0–1).
    pub dominant_variant_share: f64,
    /// 1 − (entropy of the variant distribution / ln of the number of instances), 0–1: 1 when every
    /// instance follows the same variant, 0 when every instance is different.
    pub variant_entropy_standardization: f64,
    /// The mean of the two measures above (0–1), the figure reports show.
    pub standardization: f64,
    pub users: u64,
    /// Mean share of an instance's steps that are deterministic or fed by data seen earlier (0–1).
    pub automatability: f64,
    /// instances/week × weeks/month × median duration × automatability.
    pub hours_saved_per_month: f64,
}

/// The p-th percentile (0–100) by nearest rank of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Scores a routine. `durations_s` are its instances' durations; `weeks` is the time the log covers.
pub fn score(r: &Discovered, durations_s: &[f64], users: u64, weeks: f64) -> Score {
    let n = r.instances.len() as u64;
    let mut d = durations_s.to_vec();
    d.sort_by(f64::total_cmp);
    let dominant = r.variants.first().map_or(0, |v| v.count);
    let dominant_share = if n == 0 {
        0.0
    } else {
        dominant as f64 / n as f64
    };
    let entropy: f64 = r
        .variants
        .iter()
        .map(|v| {
            let p = v.count as f64 / n as f64;
            -p * p.ln()
        })
        .sum();
    let entropy_std = if n <= 1 {
        1.0
    } else {
        (1.0 - entropy / (n as f64).ln()).clamp(0.0, 1.0)
    };
    let automatability = if r.automatable.is_empty() {
        0.0
    } else {
        r.automatable.iter().sum::<f64>() / r.automatable.len() as f64
    };
    let per_week = n as f64 / weeks;
    let med = median(&d);
    Score {
        instances: n,
        instances_per_week: per_week,
        median_duration_s: med,
        p90_duration_s: percentile(&d, 90.0),
        variants: r.variants.len() as u64,
        dominant_variant_share: dominant_share,
        variant_entropy_standardization: entropy_std,
        standardization: (dominant_share + entropy_std) / 2.0,
        users,
        automatability,
        hours_saved_per_month: per_week * WEEKS_PER_MONTH * med / 3600.0 * automatability,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 90.0), 9.0);
        assert_eq!(percentile(&v, 100.0), 10.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(median(&v), 5.5);
        assert_eq!(median(&[3.0]), 3.0);
    }
}
