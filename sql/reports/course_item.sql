-- course_item: one row per assessment item (an answer_id of a problem more than five learners answered),
-- with its problem, assignment, place in the course and weight in the overall grade (item-response model).
-- reads: problem_analysis, course_axis
-- optional: grading_policy
-- An assignment is a sequential and its problems of one grading format: `{gformat}_ch{n}_sec{m}`
-- (chapter n of the course, sequential m of the chapter); ungraded problems are kept with the
-- format ''. Problems are numbered (problem_nid) in course order among those that have items,
-- items within their problem (item_number) and in the course (item_nid). An item's weight is its
-- share of the overall grade: problem weight / items in the problem / sum of problem weights in the
-- assignment / assignments of the type x the type's fraction_of_overall_grade (drop_count and
-- min_count are not used, as in simeon).
-- Where this differs from simeon's query, and why:
-- - an assignment type the grading policy does not list (ungraded problems, '') weighs 0, not
--   simeon's 1.0 (which gives ungraded problems grade weight and a cumulative weight above 1);
--   without a grading_policy table the weights are NULL (unknown) rather than the table missing;
-- - an item is grouped by problem and answer_id alone (simeon also groups by max_grade, so an item
--   whose learners' max_grade differ comes out twice); n_user_responses counts distinct learners;
-- - items are numbered in the order of the answer_id's response and input numbers
--   (`..._10_1` after `..._2_1`), not as text;
-- - sequentials and videosequences are numbered together within their chapter (simeon numbers
--   each category on its own, giving two sections the same number);
-- - vertical_name is the unit on the problem's path (simeon: the parent, which inside an A/B test
--   is the group's vertical, not the unit).
WITH
responses AS (
  SELECT
    pa.problem_url_name AS problem_id,
    it.answer_id AS item_id,
    MAX(pa.max_grade) AS max_grade,
    COUNT(DISTINCT pa.user_id) AS n_user_responses
  FROM {{ latest_dataset }}.problem_analysis AS pa
  CROSS JOIN UNNEST(pa.item) AS it
  WHERE it.answer_id IS NOT NULL
  GROUP BY problem_id, item_id
  HAVING COUNT(DISTINCT pa.user_id) > 5
),
items AS (
  SELECT
    problem_id,
    item_id,
    max_grade,
    n_user_responses,
    ROW_NUMBER() OVER (
      PARTITION BY problem_id
      ORDER BY
        SAFE_CAST(REGEXP_EXTRACT(item_id, r'_([0-9]+)_[0-9]+$') AS INT64),
        SAFE_CAST(REGEXP_EXTRACT(item_id, r'_([0-9]+)$') AS INT64),
        item_id
    ) AS item_number,
    COUNT(*) OVER (PARTITION BY problem_id) AS n_items
  FROM responses
),
chapters AS (
  SELECT
    module_id,
    name AS chapter_name,
    ROW_NUMBER() OVER (ORDER BY `index`) AS chapter_number
  FROM {{ latest_dataset }}.course_axis
  WHERE category = 'chapter'
),
sections AS (
  SELECT
    s.url_name,
    s.name AS section_name,
    c.chapter_name,
    c.chapter_number,
    ROW_NUMBER() OVER (PARTITION BY s.chapter_mid ORDER BY s.`index`) AS section_number
  FROM {{ latest_dataset }}.course_axis AS s
  LEFT JOIN chapters AS c
    ON c.module_id = s.chapter_mid
  WHERE s.category IN ('sequential', 'videosequence')
),
problems AS (
  SELECT
    p.url_name,
    p.`index` AS content_index,
    IFNULL(p.data.weight, CAST(1.0 AS FLOAT64)) AS problem_weight,
    IFNULL(p.gformat, '') AS assignment_type,
    s.chapter_name,
    s.section_name,
    v.name AS vertical_name,
    p.name AS problem_name,
    s.chapter_number,
    s.section_number,
    p.path AS problem_path,
    p.start AS start_date,
    p.due AS due_date,
    p.is_split,
    p.split_url_name AS split_name
  FROM {{ latest_dataset }}.course_axis AS p
  -- the path is /chapter/sequential/vertical/.../problem
  LEFT JOIN sections AS s
    ON s.url_name = REGEXP_EXTRACT(p.path, r'^/[^/]+/([^/]+)')
  LEFT JOIN (
    SELECT url_name, name
    FROM {{ latest_dataset }}.course_axis
    WHERE category = 'vertical'
  ) AS v
    ON v.url_name = REGEXP_EXTRACT(p.path, r'^/[^/]+/[^/]+/([^/]+)')
  WHERE p.category = 'problem'
),
problem_assignments AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY assignment_id ORDER BY content_index) AS problem_number,
    MIN(content_index) OVER (PARTITION BY assignment_id) AS assignment_start
  FROM (
    SELECT
      *,
      assignment_type || '_ch' || CAST(chapter_number AS STRING)
        || '_sec' || CAST(section_number AS STRING) AS assignment_id
    FROM problems
  )
),
assignments AS (
  SELECT
    *,
    -- assignments of the type in course order (by their first problem)
    DENSE_RANK() OVER (
      PARTITION BY assignment_type ORDER BY assignment_start, assignment_id
    ) AS assignment_seq_num,
    CAST(COUNTIF(problem_number = 1) OVER (PARTITION BY assignment_type) AS INT64)
      AS n_assignments_of_type
  FROM problem_assignments
),
{%- if has_table('grading_policy') %}
policy AS (
  SELECT
    assignment_type,
    MAX(short_label) AS short_label,
    MAX(fraction_of_overall_grade) AS fraction_of_overall_grade
  FROM {{ latest_dataset }}.grading_policy
  GROUP BY assignment_type
),
{%- endif %}
course_items AS (
  SELECT
    i.item_id,
    i.problem_id,
    DENSE_RANK() OVER (ORDER BY a.content_index) AS problem_nid,
{%- if has_table('grading_policy') %}
    IFNULL(gp.short_label, '') || '_' || CAST(a.assignment_seq_num AS STRING) AS assignment_short_id,
{%- else %}
    '_' || CAST(a.assignment_seq_num AS STRING) AS assignment_short_id,
{%- endif %}
    i.n_user_responses,
    a.chapter_name,
    a.section_name,
    a.vertical_name,
    a.problem_name,
    a.assignment_id,
    CAST(
      COUNTIF(a.assignment_id IS NOT NULL AND i.item_number = 1)
        OVER (PARTITION BY a.assignment_id) AS INT64
    ) AS n_problems_in_assignment,
    SUM(IF(a.assignment_id IS NOT NULL AND i.item_number = 1, a.problem_weight, 0))
      OVER (PARTITION BY a.assignment_id) AS sum_problem_weight_in_assignment,
    a.assignment_type,
{%- if has_table('grading_policy') %}
    IFNULL(gp.fraction_of_overall_grade, CAST(0 AS FLOAT64)) AS assignment_type_weight,
{%- else %}
    CAST(NULL AS FLOAT64) AS assignment_type_weight,
{%- endif %}
    a.n_assignments_of_type,
    a.assignment_seq_num,
    a.chapter_number,
    a.content_index,
    a.section_number,
    a.problem_number,
    a.problem_weight,
    CAST(1.0 AS FLOAT64) AS item_points_possible,
    CAST(i.n_items AS FLOAT64) AS problem_points_possible,
    SAFE_DIVIDE(i.max_grade, i.n_items) AS emperical_item_points_possible,
    i.max_grade AS emperical_problem_points_possible,
    i.item_number,
    i.n_items,
    a.start_date,
    a.due_date,
    a.is_split,
    a.split_name,
    a.problem_path
  FROM items AS i
  JOIN assignments AS a
    ON a.url_name = i.problem_id
{%- if has_table('grading_policy') %}
  LEFT JOIN policy AS gp
    ON gp.assignment_type = a.assignment_type
{%- endif %}
),
weighted AS (
  SELECT
    *,
    problem_weight * SAFE_DIVIDE(
      SAFE_DIVIDE(SAFE_DIVIDE(assignment_type_weight, n_items), sum_problem_weight_in_assignment),
      n_assignments_of_type
    ) AS item_weight
  FROM course_items
)
SELECT
  '{{ course_id }}' AS course_id,
  item_id,
  problem_id,
  problem_nid,
  assignment_short_id,
  item_weight,
  n_user_responses,
  chapter_name,
  section_name,
  vertical_name,
  problem_name,
  assignment_id,
  n_problems_in_assignment,
  assignment_type,
  assignment_type_weight,
  n_assignments_of_type,
  assignment_seq_num,
  chapter_number,
  content_index,
  section_number,
  problem_number,
  problem_weight,
  item_points_possible,
  problem_points_possible,
  emperical_item_points_possible,
  emperical_problem_points_possible,
  item_number,
  n_items,
  start_date,
  due_date,
  is_split,
  split_name,
  problem_path,
  assignment_short_id || '__' || CAST(problem_number AS STRING) AS problem_short_id,
  assignment_short_id || '__' || CAST(problem_number AS STRING)
    || '_' || CAST(item_number AS STRING) AS item_short_id,
  ROW_NUMBER() OVER (ORDER BY content_index, item_number) AS item_nid,
  SUM(item_weight) OVER (
    ORDER BY content_index, item_number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS cumulative_item_weight
FROM weighted
ORDER BY content_index, item_number
