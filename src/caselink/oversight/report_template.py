"""The inspection report's HTML template (Jinja2, autoescaped; charts arrive as trusted inline SVG).

Kept as a Python string so the report needs no package-data entry and cannot lose its template.
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Inspection report: unexpected deaths, {{ period }}</title>
<style>
  @page { size: A4; margin: 16mm 14mm; }
  body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1d232a; font-size: 10pt; line-height: 1.4;
         max-width: 190mm; margin: 0 auto; }
  h1 { font-size: 18pt; margin: 0 0 2mm; color: #1f3b57; }
  h2 { font-size: 13pt; margin: 7mm 0 2mm; color: #1f3b57; border-bottom: 1px solid #c9d3dd; padding-bottom: 1mm;
       page-break-after: avoid; }
  h3 { font-size: 10.5pt; margin: 4mm 0 1mm; page-break-after: avoid; }
  p.lead { color: #4a5663; margin-top: 0; }
  table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 8.5pt; page-break-inside: auto; }
  tr { page-break-inside: avoid; }
  th, td { text-align: left; padding: 1mm 1.5mm; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
  th { background: #eef2f6; font-weight: 600; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.flag td { background: #fbeaea; }
  .flag-mark { color: #b3312c; font-weight: 700; }
  .figure { margin: 2mm 0 4mm; page-break-inside: avoid; }
  .figure svg { max-width: 100%; height: auto; }
  .grid { display: flex; gap: 6mm; }
  .grid > div { flex: 1; }
  .note { font-size: 8pt; color: #4a5663; }
  .keep { page-break-inside: avoid; }
</style>
</head>
<body>
<h1>Inspection report: how unexpected deaths were investigated</h1>
<p class="lead">Period (date each death was reported): {{ period }}. Generated {{ generated_at }} by caselink.
Counts from 1 to 4 are shown as
&ldquo;&lt;5&rdquo; and groups with fewer than five cases are left out, so that no individual can be identified.</p>

<h2>1. Volumes</h2>
<p>{{ n_cases }} cases in the period, of which {{ n_unexpected }} were unexpected deaths (deaths not recorded as
expected), the population the rest of this report examines.</p>
<div class="figure">{{ volume_chart | safe }}</div>
<div class="grid">
<div><h3>By incident type</h3>
<table><tr><th>type</th><th class="n">cases</th><th class="n">share</th></tr>
{% for row in by_type %}<tr><td>{{ row.label }}</td><td class="n">{{ row.n }}</td>
<td class="n">{{ row.share }}</td></tr>
{% endfor %}</table></div>
<div><h3>By cause of death</h3>
<table><tr><th>cause</th><th class="n">cases</th><th class="n">share</th></tr>
{% for row in by_cause %}<tr><td>{{ row.label }}</td><td class="n">{{ row.n }}</td>
<td class="n">{{ row.share }}</td></tr>
{% endfor %}</table></div>
</div>

<h2>2. Classifications</h2>
<p>The first classification recorded for each unexpected death (the earliest classification decision in its policy
file, or the classification on the record when no decision was logged). {{ n_classified_by_decision }} deaths have a
classification decision with a time; the median time from the report to that first decision was
{{ median_hours_to_classification }} hours.</p>
<div class="figure">{{ classification_chart | safe }}</div>
<table class="keep"><tr><th>first classification</th><th class="n">deaths</th><th class="n">share</th></tr>
{% for row in by_first_classification %}<tr><td>{{ row.label }}</td><td class="n">{{ row.n }}</td>
<td class="n">{{ row.share }}</td></tr>{% endfor %}</table>

<h2>3. Basic investigative steps missed</h2>
{% if missed %}
<p>A step is <em>missed</em> when it was not done by its due time: still outstanding after it (<em>not done</em>) or
completed after it (<em>late</em>). Steps referred to another team are not counted. Of {{ missed.totals.n_due }} steps
due in {{ missed.totals.n_cases }} cases, {{ missed.totals.n_missed }} ({{ missed.share }}) were missed:
{{ missed.totals.n_not_done }} not done ({{ missed.totals.n_never_allocated }} never allocated to anyone) and
{{ missed.totals.n_late }} done late.</p>
<div class="figure">{{ missed.chart | safe }}</div>
<table><tr><th>step</th><th>what it asks</th><th class="n">due</th><th class="n">missed</th><th class="n">share</th>
<th class="n">not done</th><th class="n">late</th></tr>
{% for row in missed.by_step %}<tr><td>{{ row.step_id }}</td><td>{{ row.title }}</td><td class="n">{{ row.n_due }}</td>
<td class="n">{{ row.n_missed }}</td><td class="n">{{ row.share }}</td><td class="n">{{ row.n_not_done }}</td>
<td class="n">{{ row.n_late }}</td></tr>{% endfor %}</table>
<h3>By team</h3>
<table class="keep"><tr><th>team</th><th class="n">due</th><th class="n">missed</th><th class="n">share</th></tr>
{% for row in missed.by_team %}<tr><td>{{ row.team }}</td><td class="n">{{ row.n_due }}</td>
<td class="n">{{ row.n_missed }}</td><td class="n">{{ row.share }}</td></tr>{% endfor %}</table>
{% else %}
<p>No checklist steps were recorded for cases in this period.</p>
{% endif %}

<h2>4. Linkage alerts and what became of them</h2>
{% if alerts %}
<table class="keep"><tr><th>status now</th><th class="n">alerts</th><th>by kind</th></tr>
{% for row in alerts %}<tr><td>{{ row.status }}</td><td class="n">{{ row.n }}</td><td>{{ row.kinds }}</td></tr>
{% endfor %}</table>
<p class="note">An alert is raised when a newly reported death starts, joins or merges a possible series. A dismissal
is a decision in the case's policy file, with the officer's rationale.</p>
{% else %}
<p>No linkage alerts were raised for cases found in this period.</p>
{% endif %}

<h2>5. Does investigative effort differ between victim groups?</h2>
{% if disparity.unavailable %}
<p>Not shown: there is no reference group (by {{ disparity.by }}) with five or more cases to compare the others
with ({{ disparity.unavailable }}). A longer period may hold enough cases.</p>
{% else %}
<p>Each group (by {{ disparity.by }}) is compared with the reference group &ldquo;{{ disparity.reference }}&rdquo;.
Ratios above 1 mean more of the measure in the group than in the reference. p-values are exact (Fisher; the
hypergeometric distribution of the group median) or from permutation tests; q-values control the false
discovery rate across all {{ disparity.metrics | length }} comparisons (Benjamini&ndash;Hochberg), and a comparison is
<span class="flag-mark">flagged</span> when q &lt; {{ disparity.alpha }}. The adjusted ratio holds cause of death, place
type and age band fixed by regression. {% if disparity.n_suppressed %}{{ disparity.n_suppressed }} comparison(s) with
fewer than five cases were suppressed.{% endif %}{% if n_erased %} {{ n_erased }} case(s) whose {{ disparity.by }}
was erased under a retention rule are in no group (not counted as having none).{% endif %}</p>
{% for section in disparity_sections %}
<div class="keep">
<h3>{{ section.label }}</h3>
<table><tr><th>group</th><th class="n">n</th><th class="n">in group</th><th class="n">in reference</th>
<th class="n">ratio</th>
<th class="n">95% CI</th><th class="n">p</th><th class="n">q</th><th class="n">adjusted</th><th></th></tr>
{% for row in section.rows %}<tr class="{{ 'flag' if row.flag else '' }}"><td>{{ row.group }}</td>
<td class="n">{{ row.n_group }}</td><td class="n">{{ row.value_group | num(3) }}</td>
<td class="n">{{ row.value_reference | num(3) }}</td><td class="n">{{ row.ratio | num }}</td>
<td class="n">{% if row.ci %}{{ row.ci[0] | num }}&ndash;{{ row.ci[1] | num }}{% else %}-{% endif %}</td>
<td class="n">{{ row.p_value | pval }}</td><td class="n">{{ row.q_value | pval }}</td>
<td class="n">{{ row.adjusted_ratio | num }}</td>
<td>{% if row.flag %}<span class="flag-mark">flag</span>{% endif %}</td>
</tr>{% endfor %}</table>
<div class="figure">{{ section.chart | safe }}</div>
</div>
{% else %}
<p>No group had five or more cases for any measure; nothing can be published.</p>
{% endfor %}
{% endif %}

<h2>About these figures</h2>
<p class="note">Source: the caselink store (cases, checklist actions, the policy file of decisions, linkage alerts
and the hash-chained audit log). A flag is a prompt for review, not a finding: differences may reflect circumstances the
regression does not capture. Times are measured from when each death was reported.</p>
</body>
</html>
"""
