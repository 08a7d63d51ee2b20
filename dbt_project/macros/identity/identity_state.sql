{#
    Custom incremental strategy `replace_state` for the identity state models (key registry, suppression list).

    A state model's SQL computes the COMPLETE new state from its previous state (`{{ this }}`, read only when
    `is_incremental()`) and this run's inputs. Unlike `delete+insert` or `merge`, rows the new state no longer
    holds disappear, which is what an erasure needs (an erased person's identifiers must not linger). The
    previous rows are read into dbt's temporary relation before the target is replaced, so the self-reference is
    safe. On the first run (no table yet) and on `dbt build --full-refresh` the model is built from scratch,
    unless the model sets `full_refresh: false` (the suppression list and the history do).

    Use: config(materialized='incremental', incremental_strategy='replace_state').
#}
{% macro get_incremental_replace_state_sql(arg_dict) -%}
    {{ return(adapter.dispatch('identity_replace_state_sql', 'cx_warehouse')(arg_dict)) }}
{%- endmacro %}

{% macro duckdb__identity_replace_state_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#- Spark SQL: overwrite the whole (unpartitioned) table. -#}
{% macro default__identity_replace_state_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    insert overwrite table {{ target }}
    select {{ columns }} from {{ source }}
{%- endmacro %}
