{#
    Pseudonymisation helpers for identity resolution.

    identity_hash(expr, purpose): salted SHA-256 (64 hex characters) of `expr`, with a purpose tag so that the
    same value hashed for two purposes (a node of the identity graph, a customer key seed) never gives the same
    hash. The salt is the secret `CX_PSEUDONYM_SALT` (env var; `dev-only-salt` when unset). Without the salt
    nobody can recompute a hash from a raw identifier, so the hashes (suppression list, key registry) and the
    customer keys minted from them are pseudonyms. The salt must never change for a warehouse: stable keys and
    the suppression list depend on it. Note that dbt renders it into the compiled SQL under target/ (git-ignored,
    local to the warehouse host).
    null in -> null out.
#}
{% macro identity_salt_literal() -%}
    '{{ env_var("CX_PSEUDONYM_SALT", "dev-only-salt") | replace("'", "''") }}'
{%- endmacro %}


{% macro identity_hash(expr, purpose) -%}
    {{ cx_warehouse.sha256_hex(dbt.concat([cx_warehouse.identity_salt_literal(), "'|" ~ purpose ~ "|'", expr])) }}
{%- endmacro %}


{#- sha256_hex(expr): lower-case hex SHA-256 of a string. -#}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'cx_warehouse')(expr)) }}
{%- endmacro %}

{% macro duckdb__sha256_hex(expr) -%}
    sha256({{ expr }})
{%- endmacro %}

{#- Spark SQL -#}
{% macro default__sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}


{#
    identity_node_id(id_type, id_value): the identity graph's node id, `<id_type>:<id_value>` (e.g.
    `email:jan@example.nl`, `social_handle:x:jan_de_vries`). Both arguments are SQL expressions.
#}
{% macro identity_node_id(id_type, id_value) -%}
    {{ dbt.concat([id_type, "':'", id_value]) }}
{%- endmacro %}


{#
    identity_customer_key(seed_expr): a customer key minted from a seed (a node hash, optionally with the
    invocation id): `ck_` + 24 hex characters of a salted SHA-256. Stable because the key registry
    (int_identity_node_keys) keeps it; the seed only makes a newly minted key reproducible.
#}
{% macro identity_customer_key(seed_expr) -%}
    {{ dbt.concat(["'ck_'", 'substring(' ~ cx_warehouse.identity_hash(seed_expr, 'customer_key') ~ ', 1, 24)']) }}
{%- endmacro %}


{#- The run (dbt invocation) as SQL literals: when and which run caused a change. -#}
{% macro identity_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro identity_invocation_id() -%}
    cast('{{ invocation_id }}' as {{ dbt.type_string() }})
{%- endmacro %}


{#
    identity_salt_fingerprint(): a short salted hash of a constant, stored with the identity state. If the salt
    changed, every hash and key minted from it would silently stop matching (keys would all change, erased persons
    would come back), so identity_assert_salt_unchanged() stops the run instead.
#}
{% macro identity_salt_fingerprint() -%}
    substring({{ cx_warehouse.identity_hash("'fingerprint'", 'salt') }}, 1, 16)
{%- endmacro %}


{#- Raise when the state table `relation` was written with another salt. Only in real runs of the model. -#}
{% macro identity_assert_salt_unchanged(relation) -%}
    {% if execute and model.resource_type == 'model' and is_incremental()
        and 'salt_fingerprint' in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list) %}
        {% set query %}
            select count(*) as mismatches
            from {{ relation }}
            where salt_fingerprint <> {{ cx_warehouse.identity_salt_fingerprint() }}
        {% endset %}
        {% if cx_warehouse.identity_scalar(query) > 0 %}
            {{ exceptions.raise_compiler_error(
                relation ~ ' was built with another CX_PSEUDONYM_SALT. Keys and the suppression list depend on the'
                ~ ' salt: restore the original salt (a new salt needs a planned re-keying, not a normal run).'
            ) }}
        {% endif %}
    {% endif %}
{%- endmacro %}


{#- identity_recompute_key(source_model, record_id): the unit an incremental night recomputes a record's
    identifiers (and attribution) in: one event, one receipt, or one record of a small source
    (`<source_model>|<record_id>`: a small source is read whole every night, but only its records that came out
    different are attributed again). -#}
{% macro identity_recompute_key(source_model, record_id) -%}
    case
        when {{ source_model }} = 'stg_web__events' then {{ dbt.concat(["'web|'", record_id]) }}
        when {{ source_model }} = 'stg_esp__email_events' then {{ dbt.concat(["'email|'", record_id]) }}
        when {{ source_model }} = 'stg_pos__transaction_lines' then {{ dbt.concat(["'pos|'", record_id]) }}
        else {{ dbt.concat([source_model, "'|'", record_id]) }}
    end
{%- endmacro %}


{#
    identity_source_groups(): conditions on source_model that split record-level work into one group per event
    source (web events, e-mail events, POS receipts) and one for all small sources (the last,
    identity_small_sources()). The identity models aggregate per group and union the results: one aggregate over
    every source at once ran out of memory at 1M customers x 180 days, per group it spills. Use:
    `where source_model {{ condition }}`.
#}
{% macro identity_source_groups() -%}
    {%- set groups = [] -%}
    {%- for source_model in identity_event_sources() -%}
        {%- do groups.append("= '" ~ source_model ~ "'") -%}
    {%- endfor -%}
    {%- do groups.append(identity_small_sources()) -%}
    {{ return(groups) }}
{%- endmacro %}


{#- identity_small_sources(): the condition on source_model of the small sources (CRM, orders, contacts,
    social, surveys, privacy requests), which an incremental night reads whole. -#}
{% macro identity_small_sources() -%}
    {{ return("not in ('" ~ identity_event_sources() | join("', '") ~ "')") }}
{%- endmacro %}


{#- identity_event_sources(): the event-scale staging models, recomputed per event / receipt. -#}
{% macro identity_event_sources() -%}
    {{ return(['stg_web__events', 'stg_esp__email_events', 'stg_pos__transaction_lines']) }}
{%- endmacro %}
