//! `dtictl frameworks` and `dtictl framework show`: what the catalog holds; `dtictl framework
//! add` and `list`: the frameworks stored on the platform (the submission service's
//! `RegistryService`).

use std::path::Path;

use crate::print_json;
use crate::remote::{call, operator, with_bearer, Output, Remote, Service};
use crate::{runtime, tr, Failure};
use dti_domain::framework::Framework;
use dti_domain::FrameworkCatalog;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{AddFrameworkRequest, AddFrameworkResponse, FrameworkOrigin};

use super::read_input;
use crate::registry_in_force::platform_frameworks;

/// Stores the framework file `input` on the platform. The file is checked here first, against
/// `catalog` (which holds the stored frameworks it may include from), so a broken one is named
/// (exit 2) before anything is sent.
pub fn add(
    catalog: &FrameworkCatalog,
    connection: &Remote,
    input: &Path,
    reason: &str,
    output: Output,
) -> Result<(), Failure> {
    let text = read_input(input)?;
    catalog
        .parse(&input.display().to_string(), &text)
        .map_err(|error| {
            Failure::InvalidInput(error.to_string().lines().map(str::to_owned).collect())
        })?;
    let added: AddFrameworkResponse = runtime()?.block_on(async {
        let bearer = connection.bearer(&operator())?;
        let mut client = RegistryServiceClient::new(connection.channel(Service::Submission).await?);
        let request = AddFrameworkRequest {
            document_toml: text,
            reason: reason.to_owned(),
        };
        call(
            &tr!("dtictl-what-framework"),
            client.add_framework(with_bearer(request, &bearer)?),
        )
        .await
    })?;
    output.emit(&added, |added| match added.changed {
        true => tr!(
            "dtictl-framework-stored",
            framework = &added.framework_id,
            hash = &added.content_hash
        ),
        false => tr!(
            "dtictl-framework-already-stored",
            framework = &added.framework_id,
            hash = &added.content_hash
        ),
    })
}

/// Lists the frameworks the platform knows, one per line.
pub fn platform_list(connection: &Remote, output: Output) -> Result<(), Failure> {
    let list = runtime()?.block_on(platform_frameworks(connection, false))?;
    output.emit(&list, |list| {
        let mut text = format!(
            "{:<24} {:>4}  {:<10} {:<9} {:<16}  {}\n",
            tr!("dtictl-col-id"),
            tr!("dtictl-col-year"),
            tr!("dtictl-col-units"),
            tr!("dtictl-col-origin"),
            tr!("dtictl-col-hash"),
            tr!("dtictl-col-pinned-by"),
        );
        for known in &list.frameworks {
            let origin = match known.origin() {
                FrameworkOrigin::BuiltIn => tr!("dtictl-framework-origin-built-in"),
                FrameworkOrigin::Directory => tr!("dtictl-framework-origin-directory"),
                FrameworkOrigin::Stored => tr!("dtictl-framework-origin-stored"),
                FrameworkOrigin::Unspecified => String::new(),
            };
            let hash: String = known.content_hash.chars().take(16).collect();
            text.push_str(&format!(
                "{:<24} {:>4}  {:<10} {:<9} {:<16}  {}\n",
                known.framework_id,
                known.year,
                known.unit_kind,
                origin,
                hash,
                known.pinned_by_rounds.join(", ")
            ));
        }
        text
    })
}

/// Lists the known frameworks, one per line.
pub fn list(catalog: &FrameworkCatalog) -> Result<(), Failure> {
    println!(
        "{:<22} {:>4}  {:<10} {:>6} {:>10} {:>6}  {}",
        tr!("dtictl-col-id"),
        tr!("dtictl-col-year"),
        tr!("dtictl-col-units"),
        tr!("dtictl-col-groups"),
        tr!("dtictl-col-indicators"),
        tr!("dtictl-col-points"),
        tr!("dtictl-col-scored")
    );
    for f in catalog.iter() {
        println!(
            "{:<22} {:>4}  {:<10} {:>6} {:>10} {:>6}  {}",
            f.id.as_str(),
            f.year,
            format!("{:?}", f.unit_kind).to_lowercase(),
            f.groups.len(),
            f.indicators.len(),
            f.total_points.to_string(),
            if f.scored {
                tr!("dtictl-framework-scored")
            } else {
                tr!("dtictl-framework-collected")
            }
        );
    }
    Ok(())
}

/// Shows one framework as text or JSON.
pub fn show(catalog: &FrameworkCatalog, id: &str, json: bool) -> Result<(), Failure> {
    let framework = catalog.get_str(id).ok_or_else(|| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-unknown-framework-id",
            framework = id,
            known = catalog.ids().join(", ")
        )])
    })?;
    if json {
        let value =
            serde_json::to_value(framework.as_ref()).map_err(|e| Failure::Unexpected(e.into()))?;
        return print_json(&value);
    }
    print_text(framework);
    Ok(())
}

fn print_text(f: &Framework) {
    println!("{} — {}", f.id, f.title);
    println!("{}", tr!("dtictl-framework-source", source = &f.source));
    match &f.declared_total_points {
        Some(declared) => println!(
            "{}",
            tr!(
                "dtictl-framework-total-declared",
                points = f.total_points.to_string(),
                declared = declared.to_string()
            )
        ),
        None => println!(
            "{}",
            tr!(
                "dtictl-framework-total",
                points = f.total_points.to_string()
            )
        ),
    }
    for note in &f.notes {
        println!("{}", tr!("dtictl-framework-note", note = note));
    }
    if !f.general_info.is_empty() {
        println!("\n{}", tr!("dtictl-framework-general-info"));
        for field in &f.general_info {
            println!(
                "  {:<6} {:<26} {:?}  {}",
                field.code, field.key, field.ty, field.name
            );
        }
    }
    for group in &f.groups {
        let from = group
            .included_from
            .as_ref()
            .map_or_else(String::new, |from| {
                format!(
                    " ({})",
                    tr!("dtictl-framework-included-from", framework = from.as_str())
                )
            });
        println!(
            "\n{} {} — {}{from}",
            group.code,
            group.name,
            tr!("dtictl-framework-points", points = group.points.to_string())
        );
        for indicator in f.indicators.iter().filter(|i| i.group == group.code) {
            let kind = indicator.rule.as_ref().map_or_else(
                || tr!("dtictl-framework-rule-collected"),
                |r| r.kind_name().to_owned(),
            );
            println!(
                "  {:<8} {:>4}  {:<14} {}",
                indicator.code.as_str(),
                indicator.points.to_string(),
                kind,
                indicator.name
            );
            for variable in &indicator.variables {
                println!(
                    "  {:<8} {:>4}  {:<14}   {} ({}): {}",
                    "",
                    "",
                    "",
                    variable.name,
                    variable.ty.name(),
                    variable.meaning
                );
            }
            if !indicator.owners.is_empty() {
                let owners: Vec<&str> = indicator.owners.iter().map(|o| o.as_str()).collect();
                println!(
                    "  {:<8} {:>4}  {:<14}   {}",
                    "",
                    "",
                    "",
                    tr!("dtictl-framework-owners", owners = owners.join(", "))
                );
            }
            if let Some(note) = &indicator.note {
                println!(
                    "  {:<8} {:>4}  {:<14}   {}",
                    "",
                    "",
                    "",
                    tr!("dtictl-framework-note", note = note)
                );
            }
        }
    }
}
