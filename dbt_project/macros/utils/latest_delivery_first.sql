{#
    latest_delivery_first(): the `order by` list that ranks copies of the same key from the latest
    delivery first, using the raw layer's lineage columns: later business date (file name), then later
    re-delivery (_rN), then later load, then later row in the file. Use it as

        row_number() over (partition by <key> order by {{ latest_delivery_first() }}) as delivery_rank

    and keep `delivery_rank = 1`. Pass a prefix (e.g. 'source.') when the columns need qualifying.
#}
{% macro latest_delivery_first(prefix='') -%}
    {{ prefix }}_business_date desc,
    {{ prefix }}_delivery_no desc,
    {{ prefix }}_loaded_at desc,
    {{ prefix }}_row_no desc
{%- endmacro %}
