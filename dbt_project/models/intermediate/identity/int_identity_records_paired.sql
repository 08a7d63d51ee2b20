-- The graph-source records that link identifiers: one row per record carrying two or more identifiers that may
-- link (not excluded), with how many, the first and last of them (node ids in order) and when the record was
-- observed. A record with exactly two identifiers is one edge (first, last) as it stands; only the few records
-- with more need a self-join (int_identity_edges). Kept as a table of its own so that this one aggregate over
-- every event record does not share memory with the joins that follow (at 1M customers x 180 days the
-- combined query ran out of memory).
-- E-mail events are left out: an e-mail event carries exactly one identifier, its address (see the unpivot in
-- int_identity_record_identifiers), so it never pairs, and grouping its tens of millions of records to learn
-- that would cost more than all the other sources together.

with

record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}
    where is_graph_source
        and source_model <> 'stg_esp__email_events'

),

excluded_identifiers as (

    select node_id from {{ ref('int_identity_identifiers') }}
    where is_excluded

),

-- every identifier of a graph-source record is a node of int_identity_identifiers; record identifiers are
-- unique per record and node
record_nodes as (

    select
        record_identifiers.source_model,
        record_identifiers.record_id,
        record_identifiers.node_id,
        record_identifiers.observed_at
    from record_identifiers
    left join excluded_identifiers
        on record_identifiers.node_id = excluded_identifiers.node_id
    where excluded_identifiers.node_id is null

),

final as (

    select
        source_model,
        record_id,
        count(*) as node_count,
        min(node_id) as first_node_id,
        max(node_id) as last_node_id,
        min(observed_at) as observed_at
    from record_nodes
    group by
        source_model,
        record_id
    having count(*) > 1

)

select * from final
