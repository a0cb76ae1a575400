//! A process's Meta quality fetcher on a test app's database, and the pixel the tests read.

use std::time::Duration;

use capi_bridge::config::meta_quality::{MetaQualityConfig, QualityInterval};
use capi_bridge::meta_quality::QualityFetcher;
use capi_bridge::platforms::meta::dataset_quality::DatasetQualityClient;
use capi_bridge::secrets::{parse_key, TokenCipher};

use super::{TestApp, TEST_SECRETS_KEY};

pub const PIXEL: &str = "1234567890";

/// A process's fetcher on the test app's database (several make several processes).
pub fn fetcher(app: &TestApp, interval: Option<Duration>) -> QualityFetcher {
    let client =
        DatasetQualityClient::new(&app.graph.uri(), "v26.0", None, Duration::from_secs(2)).unwrap();
    let cipher = TokenCipher::new(
        Some(parse_key(TEST_SECRETS_KEY).unwrap()),
        Default::default(),
    );
    let config = MetaQualityConfig {
        meta_quality_interval: QualityInterval(interval),
        meta_quality_retention: Duration::from_secs(90 * 86400),
        meta_quality_poll: Duration::from_secs(1),
    };
    QualityFetcher::new(app.pool.clone(), client, cipher, &config)
}

pub const SIX_HOURS: Option<Duration> = Some(Duration::from_secs(6 * 3600));
