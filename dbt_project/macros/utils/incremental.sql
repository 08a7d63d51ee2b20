{#
    Incremental event models: recompute what changed, exactly as a full rebuild would compute it.

    The event-scale models (web events, e-mail events, POS lines, web sessions) are `incremental` with the
    custom strategy `recompute_keys`. Each such model names a RECOMPUTE KEY (config `unique_key`: the event id
    for a deduplicated staging model, the visitor for sessionisation) and, on an incremental run, its SQL
    returns

      * every output row of every AFFECTED key, computed from the complete current input of that key, and
      * one marker row per affected key that no longer has any row (its input was withdrawn by a re-delivery),

    each with `_recompute_key` (the affected key) and `_recompute_marker` (true on a marker row); macro
    recompute_batch builds that. The strategy deletes the target's rows of every `_recompute_key` in the batch
    and inserts the batch's real rows (the two helper columns are not in the table: dest_columns are the
    target's, so a column change needs `--full-refresh`).
    Because a key's rows are always recomputed as a whole, the table after an incremental run equals a full
    rebuild (tests/integration/test_incremental_nights.py proves it on the marts).

    What makes a key affected is the model's business (see each model's header); the building blocks are:
      * new loads:  raw rows loaded after the newest load the model has seen (`_loaded_at` watermark), which
                    picks up late files and `_rN` re-deliveries of any older day, plus a lookback of
                    `var('incremental_lookback_days')` business days as a safety net;
      * withdrawn loads: rows whose load (`_file_name`, `_loaded_at`) a re-delivery replaced
                    (raw._load_manifest status `replaced`);
      * batches:    rows an upstream incremental model recomputed after this model last ran (`_batch_at`,
                    the dbt invocation's start time, stamped on every recomputed row).

    `dbt build --full-refresh` rebuilds these models from scratch (no marker column then).
#}

{% macro get_incremental_recompute_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- if key is not string -%}
        {{ exceptions.raise_compiler_error("recompute_keys needs a single-column unique_key, got " ~ key) }}
    {%- endif -%}
    {#- dest_columns are the target's columns: the batch's extra _recompute_marker column is not inserted. -#}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {% do run_query(
        "delete from " ~ target ~ " where " ~ key ~ " in (select _recompute_key from " ~ batch ~ ")"
    ) %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
    where not _recompute_marker
{%- endmacro %}


{#- The newest value of `column` in this model's table (the watermark of an incremental run). -#}
{% macro incremental_watermark(column) -%}
    (select max({{ column }}) from {{ this }})
{%- endmacro %}


{#- Rows of a raw-derived relation whose load a re-delivery has withdrawn (their raw rows are gone). -#}
{% macro is_withdrawn_load(extract, prefix='') -%}
    ({{ prefix }}_file_name, {{ prefix }}_loaded_at) in (
        select file_name, loaded_at
        from {{ load_manifest_relation() }}
        where status = 'replaced'
            and {{ adapter.quote('extract') }} = '{{ extract }}'
    )
{%- endmacro %}


{#- The loader's manifest (raw._load_manifest). Not a dbt source: it is written by the same ingest step as the
    raw tables the calling model reads, so it is always as new as they are, and it has no Dagster asset. -#}
{% macro load_manifest_relation() -%}
    {{ api.Relation.create(database=target.database, schema='raw', identifier='_load_manifest') }}
{%- endmacro %}


{#- Raw rows of a new load, or of the lookback window (business dates), relative to this model's table. -#}
{% macro is_new_load(prefix='') -%}
    (
        {{ prefix }}_loaded_at > {{ incremental_watermark('_loaded_at') }}
        or {{ prefix }}_business_date >= {{ dbt.dateadd(
            'day',
            -1 * var('incremental_lookback_days', 2),
            incremental_watermark('_business_date'),
        ) }}
    )
{%- endmacro %}


{#- The batch stamp of this run: rows recomputed by this invocation carry it in `_batch_at`. -#}
{% macro batch_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#- The model's last CTE: on an incremental run, the recompute_keys batch of `rows_cte` for the keys in
    `keys_cte` (both have column `key`); on a full build, `rows_cte` as it is. -#}
{% macro recompute_batch(keys_cte, rows_cte, key) -%}
    {%- if is_incremental() %}
    select
        {{ rows_cte }}.*,
        {{ keys_cte }}.{{ key }} as _recompute_key,
        {{ rows_cte }}.{{ key }} is null as _recompute_marker
    from {{ keys_cte }}
    left join {{ rows_cte }}
        on {{ keys_cte }}.{{ key }} = {{ rows_cte }}.{{ key }}
    {%- else %}
    select * from {{ rows_cte }}
    {%- endif %}
{%- endmacro %}


{#- A watermark read with run_query (a datetime or none) as a SQL timestamp; none (nothing seen yet) is
    the distant past, so everything is new. -#}
{% macro incremental_timestamp(value) -%}
    {%- if value is none -%}
        cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ value.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#- Business dates of `extract` whose file a re-delivery replaced after `since` (a run_query watermark): rows
    of such a date may have been withdrawn, so a model recomputes what it kept of them. -#}
{% macro redelivered_dates(extract, since) -%}
    select replaced.business_date
    from {{ load_manifest_relation() }} as replaced
    where replaced.status = 'replaced'
        and replaced.{{ adapter.quote('extract') }} = '{{ extract }}'
        and exists (
            select 1
            from {{ load_manifest_relation() }} as replacing
            where replacing.{{ adapter.quote('extract') }} = replaced.{{ adapter.quote('extract') }}
                and replacing.business_date = replaced.business_date
                and replacing.status = 'loaded'
                and replacing.loaded_at > {{ incremental_timestamp(since) }}
        )
{%- endmacro %}


{#- True when some file of `extract` was re-delivered (and the old one replaced) after `since`. -#}
{% macro withdrawn_since(extract, since) -%}
    exists ({{ redelivered_dates(extract, since) }})
{%- endmacro %}


{#- Ids of the records this model kept from a re-delivered business date (of `source_model`, relative to
    `since`): their staging row may now come from another, older delivery, so they are read again whatever
    their load time. -#}
{% macro redelivered_records(source_model, extract, since) -%}
    select record_id
    from {{ this }}
    where source_model = '{{ source_model }}'
        and _business_date in ({{ redelivered_dates(extract, since) }})
{%- endmacro %}


{#- not_materialized(): put between `name as` and `(` of a CTE that is referenced more than once and reads a
    large table. DuckDB materialises such CTEs whole (in memory) by default, which runs out of memory at scale
    (1M customers x 180 days); inlined, each reference streams. Spark inlines CTEs anyway. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'cx_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}


{#- null_safe_equal(a, b): a equals b, or both are null (true, never null). -#}
{% macro null_safe_equal(a, b) -%}
    coalesce({{ a }} = {{ b }} or ({{ a }} is null and {{ b }} is null), false)
{%- endmacro %}


{#- relation_columns_except(relation, excluded): the names of the relation's columns, in table order, but those
    in `excluded`: what an incremental model compares with its previous rows (the table decides, so a new
    column is compared without a list to keep in sync). -#}
{% macro relation_columns_except(relation, excluded) -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name not in excluded -%}
            {%- do names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#- all_null_safe_equal(left, right, columns): every column of `columns` null-safe equal between the relations
    (aliases) `left` and `right`; true when `columns` is empty. -#}
{% macro all_null_safe_equal(left, right, columns) -%}
    {%- set conditions = [] -%}
    {%- for column in columns -%}
        {%- do conditions.append(null_safe_equal(left ~ '.' ~ column, right ~ '.' ~ column)) -%}
    {%- endfor -%}
    {{ conditions | join('\n                and ') if conditions else 'true' }}
{%- endmacro %}
