//! Tests of attribute definitions and value resolution.

use super::*;

fn definitions() -> Vec<AttributeDefinition> {
    let budget =
        AttributeDefinition::create("budget", "Budget", AttributeKind::Open, &[], true).unwrap();
    let product = AttributeDefinition::create(
        "product",
        "Product",
        AttributeKind::Closed,
        &["Auto".to_owned(), "Home".to_owned()],
        false,
    )
    .unwrap();
    vec![budget, product]
}

fn open(id: &str, content: Option<&str>) -> OpenAttributeInput {
    OpenAttributeInput {
        custom_attribute_id: id.to_owned(),
        content: content.map(str::to_owned),
    }
}

fn closed(id: &str, options: &[String]) -> ClosedAttributeInput {
    ClosedAttributeInput {
        custom_attribute_id: id.to_owned(),
        closed_custom_attribute_ids: options.to_vec(),
    }
}

#[test]
fn definitions_validate_key_label_and_options() {
    let errors =
        AttributeDefinition::create("1bad key", "", AttributeKind::Closed, &[], false).unwrap_err();
    let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["key", "label", "options"]);

    let errors = AttributeDefinition::create(
        "notes",
        "Notes",
        AttributeKind::Open,
        &["x".to_owned()],
        false,
    )
    .unwrap_err();
    assert_eq!(errors.as_slice()[0].field, "options");

    let errors = AttributeDefinition::create(
        "color",
        "Color",
        AttributeKind::Closed,
        &["Red".to_owned(), "red".to_owned()],
        false,
    )
    .unwrap_err();
    assert_eq!(errors.as_slice()[0].field, "options[1].label");
}

#[test]
fn resolves_by_id_or_key_and_renders_labels() {
    let defs = definitions();
    let auto = defs[1].options[0].id.to_string();
    let assignments = resolve_assignments(
        &[open(&defs[0].id.to_string(), Some(" 5000 "))],
        &[closed("product", &[auto.clone(), auto])],
        &defs,
    )
    .unwrap();
    let values: AttributeValues = assignments
        .into_iter()
        .filter_map(|(id, v)| Some((id, v?)))
        .collect();
    assert_eq!(
        display_values(&values, &defs),
        vec![
            ("budget".to_owned(), vec!["5000".to_owned()]),
            ("product".to_owned(), vec!["Auto".to_owned()])
        ]
    );
    assert!(required_are_set(&values, &defs));
}

#[test]
fn empty_values_clear_the_attribute() {
    let defs = definitions();
    let assignments = resolve_assignments(
        &[open("budget", Some("  "))],
        &[closed("product", &[])],
        &defs,
    )
    .unwrap();
    assert_eq!(assignments, vec![(defs[0].id, None), (defs[1].id, None)]);
    assert!(!required_are_set(&AttributeValues::new(), &defs));
}

#[test]
fn every_wrong_item_is_named() {
    let defs = definitions();
    let home_of_other = OptionId::new().to_string();
    let errors = resolve_assignments(
        &[open("nope", Some("x")), open("product", Some("x"))],
        &[closed("budget", &[]), closed("product", &[home_of_other])],
        &defs,
    )
    .unwrap_err();
    let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "customAttributes.openAttributes[0].customAttributeId",
            "customAttributes.openAttributes[1].customAttributeId",
            "customAttributes.closedAttributes[0].customAttributeId",
            "customAttributes.closedAttributes[1].closedCustomAttributeIds[0]",
        ]
    );
    assert!(
        errors.as_slice()[0]
            .message
            .contains("unknown custom attribute 'nope'")
    );
}
