//! Shared set-up of the submission → scoring → ranking pipeline tests: the scoring service's test support (rounds,
//! submissions and decisions written as their owners write them, `dtictl score`'s results),
//! plus a ranking service on the same backends and ways to read and compare its rankings.

#![allow(dead_code, reason = "each test file uses part of the support module")]

#[path = "../../../services/scoring/tests/support/mod.rs"]
pub mod scoring;

use std::collections::HashMap;

use dti_auth::Role;
use dti_domain::RoundRef;
use dti_engine::{rank_competition, Points};
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::{
    GetRankingRequest, GetUnitPositionRequest, RankedUnit, UnitPosition,
};
use dti_proto::dti::scoring::v1::Basis;
use dti_ranking::Settings;
use dti_service_kit::RunningService;
use dti_testkit::with_auth;

use tonic::transport::Channel;

pub use scoring::*;

/// The scoring service and a ranking service on the same backends.
pub struct Pipeline {
    pub scoring: ScoringEnv,
    pub ranking: Option<RunningService>,
    pub settings: Settings,
}

impl Pipeline {
    pub async fn start(scoring: dti_scoring::Settings, settings: Settings) -> anyhow::Result<Self> {
        let scoring = ScoringEnv::start(scoring).await?;
        let mut pipeline = Self {
            scoring,
            ranking: None,
            settings,
        };
        pipeline.restart_ranking().await?;
        Ok(pipeline)
    }

    pub async fn restart_ranking(&mut self) -> anyhow::Result<()> {
        if let Some(running) = self.ranking.take() {
            running.stop().await?;
        }
        let config = self.scoring.backends.service_config(self.settings.clone());
        self.ranking = Some(dti_ranking::build(&config).await?.spawn()?);
        Ok(())
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        self.scoring.pool()
    }

    pub fn client(&self) -> RankingServiceClient<Channel> {
        RankingServiceClient::new(self.ranking.as_ref().expect("ranking runs").channel())
    }

    pub fn verifier(&self) -> String {
        self.scoring.backends.token(Role::Verifier)
    }

    /// Every unit of a ranking, read page by page as a verifier.
    pub async fn ranking(
        &self,
        round: &RoundRef,
        basis: Basis,
        group: &str,
        page_size: u32,
    ) -> anyhow::Result<(u64, Vec<RankedUnit>)> {
        let mut client = self.client();
        let mut units = Vec::new();
        let mut token = String::new();
        let mut version = None;
        loop {
            let request = GetRankingRequest {
                round: Some(proto_round(round)),
                basis: basis as i32,
                group_code: group.to_owned(),
                page_size,
                page_token: token.clone(),
            };
            let page = client
                .get_ranking(with_auth(request, &self.verifier()))
                .await?
                .into_inner();
            version.get_or_insert(page.cohort_version);
            units.extend(page.units);
            if page.next_page_token.is_empty() {
                return Ok((version.unwrap_or(0), units));
            }
            token = page.next_page_token;
        }
    }

    pub async fn position(
        &self,
        round: &RoundRef,
        basis: Basis,
        unit: &str,
        group: &str,
        bearer: &str,
    ) -> Result<UnitPosition, tonic::Status> {
        let request = GetUnitPositionRequest {
            round: Some(proto_round(round)),
            basis: basis as i32,
            unit: Some(dti_proto::dti::common::v1::UnitRef {
                unit_id: unit.to_owned(),
            }),
            group_code: group.to_owned(),
        };
        Ok(self
            .client()
            .get_unit_position(with_auth(request, bearer))
            .await?
            .into_inner())
    }

    /// Waits until the ranking reflects the cohort's current score version.
    pub async fn wait_ranked(&self, round: &RoundRef, basis: Basis) -> anyhow::Result<()> {
        let stored = if basis == Basis::SelfAssessed {
            "self"
        } else {
            "verified"
        };
        wait_until("the ranking reflects the score tables", || async {
            let version = cohort_version(self.pool(), round, stored).await?;
            let (ranked, _) = self.ranking(round, basis, "", 1000).await?;
            Ok(u64::try_from(version)? == ranked)
        })
        .await
    }

    /// Removes every Redis key of this test (as a flush or a restart without persistence would).
    pub async fn flush_redis(&self) -> anyhow::Result<usize> {
        self.scoring.backends.delete_redis_keys().await
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(running) = self.ranking.take() {
            running.stop().await?;
        }
        self.scoring.close().await
    }
}

/// Asserts that a ranking (total when `group` is empty) lists every unit with the score and the
/// competition rank `dtictl score` gives it, best first.
pub fn assert_ranking_matches(
    ranked: &[RankedUnit],
    expected: &HashMap<String, ExpectedScores>,
    group: &str,
) {
    let score_of = |scores: &ExpectedScores| -> String {
        if group.is_empty() {
            scores.total.clone()
        } else {
            scores.groups[group].clone()
        }
    };
    let mut units: Vec<(&String, &ExpectedScores)> = expected.iter().collect();
    units.sort_by(|a, b| a.0.cmp(b.0));
    let points: Vec<Points> = units
        .iter()
        .map(|(_, scores)| Points(cents(&score_of(scores))))
        .collect();
    let ranks = rank_competition(&points);
    if group.is_empty() {
        for ((unit, scores), rank) in units.iter().zip(&ranks) {
            assert_eq!(u64::from(*rank), scores.rank, "dtictl's rank of {unit}");
        }
    }
    let want: HashMap<&str, (String, u32)> = units
        .iter()
        .zip(&ranks)
        .map(|((unit, scores), rank)| (unit.as_str(), (score_of(scores), *rank)))
        .collect();
    assert_eq!(
        ranked.len(),
        want.len(),
        "every unit is ranked by {group:?}"
    );
    for pair in ranked.windows(2) {
        assert!(pair[0].score_cents >= pair[1].score_cents, "best first");
    }
    for entry in ranked {
        let unit = entry
            .unit
            .as_ref()
            .map(|u| u.unit_id.as_str())
            .unwrap_or_default();
        let (score, rank) = &want[unit];
        assert_eq!(
            (&entry.score, entry.rank),
            (score, *rank),
            "unit {unit} by {group:?}"
        );
        assert_eq!(entry.score_cents, cents(score));
    }
}

/// "412.35" → 41235.
pub fn cents(score: &str) -> i64 {
    let (whole, fraction) = score.split_once('.').expect("two decimals");
    whole.parse::<i64>().expect("whole") * 100 + fraction.parse::<i64>().expect("fraction")
}
