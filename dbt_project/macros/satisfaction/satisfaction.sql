{#
    Survey arithmetic shared by the satisfaction marts (portable: plain SQL and dbt cross-database macros).

    NPS ("likelihood to recommend", 0-10): promoters answer 9-10, passives 7-8, detractors 0-6.
    NPS = % promoters - % detractors among the responses WITH an NPS answer, on -100 ... 100; null when no
    response answered it. Equivalently the mean of the per-response nps_points (+100 / 0 / -100), which is
    what the drivers mart uses for standard errors.
#}

{#- nps_points(score): a response's contribution to NPS: 100 (promoter, 9-10), 0 (passive, 7-8), -100
    (detractor, 0-6); null when the score is null. -#}
{% macro nps_points(score) -%}
    case
        when {{ score }} >= 9 then 100
        when {{ score }} >= 7 then 0
        when {{ score }} >= 0 then -100
    end
{%- endmacro %}


{#- nps_category(score): promoter / passive / detractor; null when the score is null. -#}
{% macro nps_category(score) -%}
    case
        when {{ score }} >= 9 then 'promoter'
        when {{ score }} >= 7 then 'passive'
        when {{ score }} >= 0 then 'detractor'
    end
{%- endmacro %}


{#- nps_index(score): aggregate; % promoters - % detractors among the non-null scores (the mean of nps_points),
    a double on -100 ... 100; null when no score is non-null. -#}
{% macro nps_index(score) -%}
    avg(cast({{ cx_warehouse.nps_points(score) }} as {{ cx_warehouse.type_double() }}))
{%- endmacro %}


{#- avg_score(score): the mean of a 1-N score as a double (null when no response answered it). -#}
{% macro avg_score(score) -%}
    avg(cast({{ score }} as {{ cx_warehouse.type_double() }}))
{%- endmacro %}


{#- survey_type_channel(survey_type): the contract's channel of a response whose surveyed touchpoint is
    unknown, by survey type. -#}
{% macro survey_type_channel(survey_type) -%}
    case {{ survey_type }}
        when 'post_store_visit' then 'store'
        when 'post_delivery' then 'webshop'
        when 'post_contact' then 'contact_center'
        when 'relationship_nps' then 'relationship'
    end
{%- endmacro %}
