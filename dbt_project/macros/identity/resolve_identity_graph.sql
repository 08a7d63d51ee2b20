{#
    resolve_identity_graph(nodes, edges): resolves the identity graph into customers, in two iterative phases.

    Inputs (relations or CTE names):
      nodes  node_id, anchor (the hashed CRM person signature on crm_id nodes, else null),
             is_shared (true for an identifier already known to link two persons: never links anyone)
      edges  node_a, node_b (undirected: identifiers observed together, or a CRM duplicate registration)

    Phase 1 - anchors (multi-source breadth-first search from the CRM persons). Every crm_id node starts with its
      person anchor. Each round, an unassigned node takes the anchor its assigned neighbours offer; a node offered
      two different anchors in the same round is conflicted (it sits between two CRM persons, like a household
      landline) and from then on carries nothing. Assigned nodes never change, so every node ends with the anchor
      of the nearest CRM person, or conflicted at a tie, or none (not connected to any CRM record).
    Phase 2 - connected components by minimum-label propagation with pointer jumping, over the edges whose two
      ends are not conflicted and carry the same anchor (or both none). Each round a node takes the smallest label
      among itself and its neighbours, then the label of that label (pointer jumping). Labels are node ids, so a
      component ends labelled by its smallest node id.
    Result: one row per node: node_id, anchor, anchor_distance, is_conflicted, component_id, anchor_iterations,
      label_iterations, is_converged. A component never holds two different CRM persons: two adjacent unconflicted
      nodes with different anchors are never joined.

    Execution: in `dbt run` / `dbt build` each round is a table built with run_query in the model's schema
      (`<model>__idr_*`), until a round changes nothing; the iteration counts are those rounds (the last one
      confirming that nothing changed) and are logged. More than `identity_max_iterations` (var, default 100)
      rounds in a phase raises an error rather than return a partial result. Elsewhere (unit tests, `dbt compile`,
      docs) the same round SQL is unrolled into CTEs for `identity_static_rounds` (var, default 8) rounds per phase;
      then `is_converged` tells whether the last unrolled round changed nothing.
    The round SQL is plain SQL (no engine-specific syntax); scratch tables are created with dbt's create_table_as,
    so the loop runs unchanged on Spark. The calling model must drop the scratch result in a post-hook with
    `identity_drop_scratch_tables()`.
#}
{% macro resolve_identity_graph(nodes, edges) -%}
    {%- if cx_warehouse.identity_iterate_in_warehouse() -%}
        {{ return(cx_warehouse.identity_resolve_iteratively(nodes, edges, var('identity_max_iterations', 100))) }}
    {%- else -%}
        {{ return(cx_warehouse.identity_resolve_unrolled(nodes, edges, var('identity_static_rounds', 8))) }}
    {%- endif -%}
{%- endmacro %}


{#- True when this is a real model execution (not a unit test, compile, docs or parse). -#}
{% macro identity_iterate_in_warehouse() -%}
    {{ return(
        execute
        and model.resource_type == 'model'
        and flags.WHICH in ('run', 'build', 'retry')
    ) }}
{%- endmacro %}


{# ---------------------------------------------------------------------------------------------------------- #}
{# The SQL of one round. Plain SQL over two or three relations, used by both execution modes.                 #}
{# ---------------------------------------------------------------------------------------------------------- #}

{% macro identity_directed_edges_sql(edges) -%}
    select
        edges.node_a as node_id,
        edges.node_b as neighbour_id
    from {{ edges }} as edges
    union all
    select
        edges.node_b as node_id,
        edges.node_a as neighbour_id
    from {{ edges }} as edges
{%- endmacro %}


{% macro identity_anchor_start_sql(nodes) -%}
    select
        nodes.node_id,
        nodes.anchor,
        (nodes.anchor is null and coalesce(nodes.is_shared, false)) as is_conflicted,
        case when nodes.anchor is not null then 0 end as anchor_distance
    from {{ nodes }} as nodes
{%- endmacro %}


{% macro identity_anchor_round_sql(previous, directed_edges, round_no) -%}
    {%- set open_node = 'previous.anchor is null and not previous.is_conflicted' -%}
    select
        previous.node_id,
        case
            when {{ open_node }} and offered.anchor_count = 1 then offered.min_anchor
            else previous.anchor
        end as anchor,
        case
            when {{ open_node }} and offered.anchor_count > 1 then true
            else previous.is_conflicted
        end as is_conflicted,
        case
            when {{ open_node }} and offered.anchor_count = 1 then {{ round_no }}
            else previous.anchor_distance
        end as anchor_distance
    from {{ previous }} as previous
    left join (
        select
            directed_edges.node_id,
            count(distinct neighbour.anchor) as anchor_count,
            min(neighbour.anchor) as min_anchor
        from {{ directed_edges }} as directed_edges
        inner join {{ previous }} as neighbour
            on directed_edges.neighbour_id = neighbour.node_id
        where neighbour.anchor is not null
            and not neighbour.is_conflicted
        group by directed_edges.node_id
    ) as offered
        on previous.node_id = offered.node_id
{%- endmacro %}


{% macro identity_anchor_changes_sql(current, previous) -%}
    select count(*) as changed_nodes
    from {{ current }} as current_round
    inner join {{ previous }} as previous_round
        on current_round.node_id = previous_round.node_id
    where coalesce(current_round.anchor, '') <> coalesce(previous_round.anchor, '')
        or current_round.is_conflicted <> previous_round.is_conflicted
{%- endmacro %}


{#- The edges components may use: both ends unconflicted and carrying the same anchor (or both none). -#}
{% macro identity_kept_edges_sql(directed_edges, anchors) -%}
    select
        directed_edges.node_id,
        directed_edges.neighbour_id
    from {{ directed_edges }} as directed_edges
    inner join {{ anchors }} as node_anchor
        on directed_edges.node_id = node_anchor.node_id
    inner join {{ anchors }} as neighbour_anchor
        on directed_edges.neighbour_id = neighbour_anchor.node_id
    where not node_anchor.is_conflicted
        and not neighbour_anchor.is_conflicted
        -- a case, not `anchor = anchor`: an equality between the two anchor tables invites the optimizer to join
        -- them with each other first (every pair of anchorless nodes matches)
        and case
            when node_anchor.anchor is null and neighbour_anchor.anchor is null then 1
            when node_anchor.anchor = neighbour_anchor.anchor then 1
            else 0
        end = 1
{%- endmacro %}


{% macro identity_label_start_sql(anchors) -%}
    select
        anchors.node_id,
        anchors.node_id as component_id
    from {{ anchors }} as anchors
{%- endmacro %}


{#- One round of minimum-label propagation (hop to the smallest neighbour label) plus pointer jumping. -#}
{% macro identity_label_round_sql(previous, kept_edges) -%}
    select
        hop.node_id,
        case
            when parent.component_id < hop.component_id then parent.component_id
            else hop.component_id
        end as component_id
    from (
        select
            previous.node_id,
            case
                when neighbour_min.component_id < previous.component_id then neighbour_min.component_id
                else previous.component_id
            end as component_id
        from {{ previous }} as previous
        left join (
            select
                kept_edges.node_id,
                min(neighbour.component_id) as component_id
            from {{ kept_edges }} as kept_edges
            inner join {{ previous }} as neighbour
                on kept_edges.neighbour_id = neighbour.node_id
            group by kept_edges.node_id
        ) as neighbour_min
            on previous.node_id = neighbour_min.node_id
    ) as hop
    left join {{ previous }} as parent
        on hop.component_id = parent.node_id
{%- endmacro %}


{% macro identity_label_changes_sql(current, previous) -%}
    select count(*) as changed_nodes
    from {{ current }} as current_round
    inner join {{ previous }} as previous_round
        on current_round.node_id = previous_round.node_id
    where current_round.component_id <> previous_round.component_id
{%- endmacro %}


{% macro identity_result_sql(anchors, labels, anchor_iterations, label_iterations, is_converged) -%}
    select
        anchors.node_id,
        anchors.anchor,
        anchors.anchor_distance,
        anchors.is_conflicted,
        labels.component_id,
        {{ anchor_iterations }} as anchor_iterations,
        {{ label_iterations }} as label_iterations,
        {{ is_converged }} as is_converged
    from {{ anchors }} as anchors
    inner join {{ labels }} as labels
        on anchors.node_id = labels.node_id
{%- endmacro %}


{# ---------------------------------------------------------------------------------------------------------- #}
{# Mode 1: iterate in the warehouse until nothing changes.                                                     #}
{# ---------------------------------------------------------------------------------------------------------- #}

{% macro identity_scratch_relation(name) -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=this.schema,
        identifier=this.identifier ~ '__idr_' ~ name,
        type='table',
    )) }}
{%- endmacro %}


{% macro identity_create_scratch(relation, sql) -%}
    {% do run_query(create_table_as(false, relation, sql)) %}
{%- endmacro %}


{#- Drop every scratch table of the current model: the result this run left for the model to read, and anything a
    failed earlier run left behind (looked up in dbt's relation cache, filled at the start of the run). -#}
{% macro identity_drop_scratch_tables() -%}
    {% if execute %}
        {% set names = ['result', 'edges', 'kept_edges'] %}
        {% for round_no in range(0, var('identity_max_iterations', 100) + 1) %}
            {% do names.append('anchors_' ~ round_no) %}
            {% do names.append('labels_' ~ round_no) %}
        {% endfor %}
        {% for name in names %}
            {% set scratch = cx_warehouse.identity_scratch_relation(name) %}
            {% if name == 'result' or adapter.get_relation(scratch.database, scratch.schema, scratch.identifier) %}
                {% do adapter.drop_relation(scratch) %}
            {% endif %}
        {% endfor %}
    {% endif %}
{%- endmacro %}


{% macro identity_scalar(sql) -%}
    {% set result = run_query(sql) %}
    {{ return(result.columns[0].values()[0] | int) }}
{%- endmacro %}


{% macro identity_resolve_iteratively(nodes, edges, max_iterations) -%}
    {% do cx_warehouse.identity_drop_scratch_tables() %}

    {% set directed_edges = cx_warehouse.identity_scratch_relation('edges') %}
    {% do cx_warehouse.identity_create_scratch(directed_edges, cx_warehouse.identity_directed_edges_sql(edges)) %}

    {#- Phase 1: anchors -#}
    {% set anchors_start = cx_warehouse.identity_scratch_relation('anchors_0') %}
    {% do cx_warehouse.identity_create_scratch(anchors_start, cx_warehouse.identity_anchor_start_sql(nodes)) %}
    {% set anchor_loop = namespace(previous=anchors_start, rounds=0, done=false) %}
    {% for round_no in range(1, max_iterations + 1) %}
        {% if not anchor_loop.done %}
            {% set current = cx_warehouse.identity_scratch_relation('anchors_' ~ round_no) %}
            {% do cx_warehouse.identity_create_scratch(
                current, cx_warehouse.identity_anchor_round_sql(anchor_loop.previous, directed_edges, round_no)
            ) %}
            {% set changed = cx_warehouse.identity_scalar(
                cx_warehouse.identity_anchor_changes_sql(current, anchor_loop.previous)
            ) %}
            {% do adapter.drop_relation(anchor_loop.previous) %}
            {% set anchor_loop.previous = current %}
            {% set anchor_loop.rounds = round_no %}
            {% if changed == 0 %}
                {% set anchor_loop.done = true %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if not anchor_loop.done %}
        {{ exceptions.raise_compiler_error(
            'identity resolution: anchors did not converge within ' ~ max_iterations
            ~ ' iterations (var identity_max_iterations)'
        ) }}
    {% endif %}
    {% set anchors = anchor_loop.previous %}

    {#- Phase 2: connected components -#}
    {% set kept_edges = cx_warehouse.identity_scratch_relation('kept_edges') %}
    {% do cx_warehouse.identity_create_scratch(
        kept_edges, cx_warehouse.identity_kept_edges_sql(directed_edges, anchors)
    ) %}
    {% set labels_start = cx_warehouse.identity_scratch_relation('labels_0') %}
    {% do cx_warehouse.identity_create_scratch(labels_start, cx_warehouse.identity_label_start_sql(anchors)) %}
    {% set label_loop = namespace(previous=labels_start, rounds=0, done=false) %}
    {% for round_no in range(1, max_iterations + 1) %}
        {% if not label_loop.done %}
            {% set current = cx_warehouse.identity_scratch_relation('labels_' ~ round_no) %}
            {% do cx_warehouse.identity_create_scratch(
                current, cx_warehouse.identity_label_round_sql(label_loop.previous, kept_edges)
            ) %}
            {% set changed = cx_warehouse.identity_scalar(
                cx_warehouse.identity_label_changes_sql(current, label_loop.previous)
            ) %}
            {% do adapter.drop_relation(label_loop.previous) %}
            {% set label_loop.previous = current %}
            {% set label_loop.rounds = round_no %}
            {% if changed == 0 %}
                {% set label_loop.done = true %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if not label_loop.done %}
        {{ exceptions.raise_compiler_error(
            'identity resolution: components did not converge within ' ~ max_iterations
            ~ ' iterations (var identity_max_iterations)'
        ) }}
    {% endif %}

    {% set result = cx_warehouse.identity_scratch_relation('result') %}
    {% do cx_warehouse.identity_create_scratch(result, cx_warehouse.identity_result_sql(
        anchors, label_loop.previous, anchor_loop.rounds, label_loop.rounds, 'true'
    )) %}
    {% for relation in [directed_edges, anchors, kept_edges, label_loop.previous] %}
        {% do adapter.drop_relation(relation) %}
    {% endfor %}
    {{ log(
        'identity resolution: anchors converged in ' ~ anchor_loop.rounds ~ ' iterations, components in '
        ~ label_loop.rounds ~ ' iterations',
        info=true,
    ) }}

    {{ return('select * from ' ~ result) }}
{%- endmacro %}


{# ---------------------------------------------------------------------------------------------------------- #}
{# Mode 2: the same rounds unrolled into CTEs (unit tests, compile, docs).                                     #}
{# ---------------------------------------------------------------------------------------------------------- #}

{% macro identity_resolve_unrolled(nodes, edges, rounds) -%}
    {%- set sql -%}
with

identity_directed_edges as (
    {{ cx_warehouse.identity_directed_edges_sql(edges) }}
),

identity_anchors_0 as (
    {{ cx_warehouse.identity_anchor_start_sql(nodes) }}
),
{% for round_no in range(1, rounds + 1) %}
identity_anchors_{{ round_no }} as (
    {{ cx_warehouse.identity_anchor_round_sql(
        'identity_anchors_' ~ (round_no - 1), 'identity_directed_edges', round_no
    ) }}
),
{% endfor %}

identity_kept_edges as (
    {{ cx_warehouse.identity_kept_edges_sql('identity_directed_edges', 'identity_anchors_' ~ rounds) }}
),

identity_labels_0 as (
    {{ cx_warehouse.identity_label_start_sql('identity_anchors_' ~ rounds) }}
),
{% for round_no in range(1, rounds + 1) %}
identity_labels_{{ round_no }} as (
    {{ cx_warehouse.identity_label_round_sql('identity_labels_' ~ (round_no - 1), 'identity_kept_edges') }}
),
{% endfor %}

identity_convergence as (
    select
        (
            ({{ cx_warehouse.identity_anchor_changes_sql(
                'identity_anchors_' ~ rounds, 'identity_anchors_' ~ (rounds - 1)
            ) }}) = 0
            and ({{ cx_warehouse.identity_label_changes_sql(
                'identity_labels_' ~ rounds, 'identity_labels_' ~ (rounds - 1)
            ) }}) = 0
        ) as is_converged
),

identity_result as (
    {{ cx_warehouse.identity_result_sql(
        'identity_anchors_' ~ rounds, 'identity_labels_' ~ rounds, rounds, rounds,
        '(select is_converged from identity_convergence)'
    ) }}
)

select * from identity_result
    {%- endset -%}
    {{ return(sql) }}
{%- endmacro %}
