//! Commands that work on the platform database directly: `dtictl migrate` and
//! `dtictl audit verify`.

use dti_db::tenancy::Mismatch;
use dti_domain::{FrameworkId, RoundRef};

use crate::remote::checked_tenant;
use crate::{runtime, tr, Failure};

/// Where the database is.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL of the platform database.
    #[arg(long, env = "DTI_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// CA certificate (PEM) the database server's certificate must chain to; set, the
    /// connection uses TLS and verifies the server's certificate and host name (verify-full).
    #[arg(long, env = "DTI_DATABASE_TLS_CA_FILE")]
    pub database_tls_ca_file: Option<std::path::PathBuf>,
    /// Deployments of several provinces: the tenant the database must belong to (the services'
    /// `auth.tenant`); a database of another tenant is refused.
    #[arg(long = "tenant", env = "DTI_TENANT")]
    pub database_tenant: Option<String>,
}

/// What `dtictl audit verify` checks.
#[derive(Debug, clap::Args)]
pub struct AuditVerifyArgs {
    /// Assessment year of the round.
    #[arg(long)]
    pub year: u16,
    /// Framework id of the round, e.g. hcm-2023-district.
    #[arg(long)]
    pub framework: String,
    /// How to reach the database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Connects to the platform database, refusing (exit code 3) one that belongs to another
/// tenant than `--tenant`, or to any tenant when none is given, as the services do.
pub async fn connect(args: &DatabaseArgs) -> Result<dti_db::PgPool, Failure> {
    if !(args.database_url.starts_with("postgres://")
        || args.database_url.starts_with("postgresql://"))
    {
        return Err(Failure::InvalidInput(vec![tr!("dtictl-database-url")]));
    }
    let tenant = checked_tenant(args.database_tenant.as_deref())?;
    let config = dti_config::DatabaseConfig {
        tls_ca_file: args.database_tls_ca_file.clone(),
        ..dti_config::DatabaseConfig::default()
    };
    let pool = dti_db::connect_url(&args.database_url, &config)
        .await
        .map_err(|error| Failure::Unexpected(error.into()))?;
    let owner = dti_db::tenancy::owner(&pool)
        .await
        .map_err(|error| Failure::Unexpected(error.into()))?;
    match dti_db::tenancy::mismatch(owner.as_deref(), tenant) {
        Some(Mismatch::OtherTenant { owner, tenant }) => Err(Failure::Refused(vec![tr!(
            "dtictl-database-other-tenant",
            owner = owner,
            tenant = tenant
        )])),
        Some(Mismatch::TenantNeeded { owner }) => Err(Failure::Refused(vec![tr!(
            "dtictl-database-tenant-needed",
            owner = owner
        )])),
        None => Ok(pool),
    }
}

/// Applies the platform's migrations.
pub fn migrate(args: &DatabaseArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let pool = connect(args).await?;
        dti_db::migrate(&pool)
            .await
            .map_err(|error| Failure::Unexpected(error.into()))?;
        println!(
            "{}",
            tr!(
                "dtictl-migrated",
                migrations = dti_db::MIGRATOR.iter().count()
            )
        );
        Ok(())
    })
}

/// Recomputes a round's audit chains; exits with [`Failure::Broken`] at the first broken link.
pub fn audit_verify(args: &AuditVerifyArgs) -> Result<(), Failure> {
    let framework = FrameworkId::parse(args.framework.clone())
        .map_err(|error| Failure::InvalidInput(vec![format!("--framework: {error}")]))?;
    let round = RoundRef {
        year: args.year,
        framework,
    };
    runtime()?.block_on(async {
        let pool = connect(&args.database).await?;
        let report = dti_audit::verify_round(&pool, &round)
            .await
            .map_err(|error| Failure::Unexpected(error.into()))?;
        match report.first_broken {
            None => {
                println!(
                    "{}",
                    tr!(
                        "dtictl-audit-holds",
                        round = round.to_string(),
                        chains = report.chains,
                        entries = report.entries
                    )
                );
                Ok(())
            }
            Some(broken) => Err(Failure::Broken(tr!(
                "dtictl-audit-broken",
                round = round.to_string(),
                broken = broken.to_string()
            ))),
        }
    })
}
