{#
    Touchpoint identifiers and types shared by fct_touchpoints and the models that point at its rows
    (fct_pain_points, fct_journeys). The (channel, touchpoint_type) pairs and their journey stage are listed
    in the seed journey_touchpoint_taxonomy.
#}

{#- touchpoint_id(touchpoint_type, source_id): the touchpoint's key, a hash of its type and the id of the
    record it comes from (event_id, session_id, transaction_id, order_id, order_return_id, contact_id,
    conversation_id, response_id). Both arguments are SQL expressions. -#}
{% macro touchpoint_id(touchpoint_type, source_id) -%}
    {{ cx_warehouse.journeys_key([touchpoint_type, source_id]) }}
{%- endmacro %}


{#- contact_touchpoint_type(channel): touchpoint_type of a contact-center contact by its channel. -#}
{% macro contact_touchpoint_type(channel) -%}
    case {{ channel }}
        when 'telefoon' then 'contact_phone'
        when 'chat' then 'contact_chat'
        when 'email' then 'contact_email'
        else 'contact_other'
    end
{%- endmacro %}


{#- survey_touchpoint_type(survey_type): touchpoint_type of a survey response by its survey type. -#}
{% macro survey_touchpoint_type(survey_type) -%}
    case
        when {{ survey_type }} in ('relationship_nps', 'post_delivery', 'post_contact', 'post_store_visit')
            then {{ dbt.concat(["'survey_'", survey_type]) }}
        else 'survey_other'
    end
{%- endmacro %}


{#- email_touchpoint_type(event_type, campaign_type): touchpoint_type of an e-mail event that is a
    customer interaction (open, click, unsubscribe, complaint); null for the sender's events (sent,
    delivered, bounce). Opens and clicks of `service` campaigns are service touchpoints, of every other
    (or an unknown) campaign type marketing touchpoints. -#}
{% macro email_touchpoint_type(event_type, campaign_type) -%}
    case
        when {{ event_type }} in ('open', 'click')
            then {{ dbt.concat([
                "case when " ~ campaign_type ~ " = 'service' then 'service' else 'marketing' end",
                "'_email_'",
                event_type,
            ]) }}
        when {{ event_type }} = 'unsubscribe' then 'email_unsubscribe'
        when {{ event_type }} = 'complaint' then 'email_complaint'
    end
{%- endmacro %}


{#- web_event_touchpoint_type(event_type): touchpoint_type of a KEY web event (search, add_to_cart, login,
    checkout_start, order_complete, help_page_view); null for page and product views, which count through
    their session. -#}
{% macro web_event_touchpoint_type(event_type) -%}
    case
        when {{ event_type }} in (
            'search', 'add_to_cart', 'login', 'checkout_start', 'order_complete', 'help_page_view'
        )
            then {{ dbt.concat(["'web_'", event_type]) }}
    end
{%- endmacro %}
