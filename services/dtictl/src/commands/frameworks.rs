//! `dtictl frameworks` and `dtictl framework show`: what the catalog holds.

use crate::print_json;
use crate::{tr, Failure};
use dti_domain::framework::Framework;
use dti_domain::FrameworkCatalog;

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
        println!(
            "\n{} {} — {}",
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
