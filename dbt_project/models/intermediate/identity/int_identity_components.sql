{{
    config(
        post_hook=["{{ identity_drop_scratch_tables() }}"],
    )
}}

-- Identity resolution: one row per identifier that may link (not excluded), with the customer component it
-- resolves to. The iteration (macro resolve_identity_graph) assigns each identifier to the nearest CRM person
-- (conflicted when two are equally near: a household identifier), then computes connected components over the
-- edges between unconflicted identifiers of the same CRM person (or of none), until nothing changes. A component
-- is a customer when it holds anything but cookies: a cookie that never logged in is nobody we know, and a
-- conflicted identifier is nobody's on its own.

with

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}
    where not is_excluded

),

-- the iteration runs over relations (it builds its own tables), so its inputs are subqueries, not CTEs
{%- set graph_nodes -%}
    (
        select
            node_id,
            anchor,
            is_shared
        from {{ ref('int_identity_identifiers') }}
        where not is_excluded
    )
{%- endset %}
{%- set graph_edges -%}
    (
        select
            node_a,
            node_b
        from {{ ref('int_identity_edges') }}
    )
{%- endset %}

resolved as (

    {{ resolve_identity_graph(graph_nodes, graph_edges) }}

),

components as (

    select
        resolved.component_id,
        count(*) as component_size,
        max(
            case when identifiers.id_type <> 'anonymous_id' and not resolved.is_conflicted then 1 else 0 end
        ) = 1 as is_customer_component,
        count(distinct resolved.anchor) as crm_person_count,
        min(identifiers.first_observed_at) as component_first_observed_at
    from resolved
    inner join identifiers
        on resolved.node_id = identifiers.node_id
    group by resolved.component_id

),

final as (

    select
        identifiers.node_id,
        {{ identity_hash('identifiers.node_id', 'node') }} as node_hash,
        identifiers.id_type,
        identifiers.id_value,
        resolved.component_id,
        resolved.anchor,
        resolved.anchor_distance,
        resolved.is_conflicted,
        identifiers.is_shared,
        components.is_customer_component,
        components.component_size,
        components.crm_person_count as component_crm_person_count,
        identifiers.first_observed_at,
        components.component_first_observed_at,
        resolved.anchor_iterations,
        resolved.label_iterations,
        resolved.is_converged
    from identifiers
    inner join resolved
        on identifiers.node_id = resolved.node_id
    inner join components
        on resolved.component_id = components.component_id

)

select * from final
