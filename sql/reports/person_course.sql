-- person_course: one row per learner in user_info_combo: registration, activity, grade, certificate, demographics, modal IP and its place, agent, transcript language, forum and roles.
-- reads: user_info_combo, course_axis, grading_policy, course_modal_ip, pc_day_totals, pc_nchapters, course_modal_language, person_enrollment_verified, course_modal_agent
-- optional: grades_persistent, pc_forum, roles, pc_video_watched
-- Every input holds at most one row per learner, each joined left to user_info_combo (by
-- username or user_id as the input is keyed). viewed: the learner has a pc_nchapters row;
-- explored: nchapters is at least half the chapters visible to students; completed: the grade
-- reaches the lowest cutoff of grading_policy (NULL when the course has no grades_persistent).
-- Columns from an optional input the course lacks are NULL, as in simeon. The geo columns come
-- from geo_table (simeon's geoip: one row per ip) joined on the modal IP, NULL when no geo_table
-- is configured. Every column is cast to its schema type (report inputs may carry wider ones).
-- Where this differs from simeon:
-- * nforum_events is the number of forum events in the learner's logs (pc_day_totals.nforum), as
--   its description says; simeon repeats nforum_posts (pc_forum.nforum) there.
-- * email_domain is NULL for an address without '@'; simeon gives the whole address.
-- * an IP listed more than once in geo_table gives one place (the first by country code, region,
--   city, postal code, latitude, longitude), not one person_course row per listing.
SELECT DISTINCT
  '{{ course_id }}' AS course_id,
  uic.user_id AS user_id,
  uic.username AS username,
  TRUE AS registered,
  nch.user_id IS NOT NULL AS viewed,
  COALESCE(SAFE_DIVIDE(nch.nchapters, axis.nchapters_visible) >= 0.5, FALSE) AS explored,
  COALESCE(uic.certificate_status = 'downloadable', FALSE) AS certified,
{%- if has_table('grades_persistent') %}
  COALESCE(grades.percent_grade >= policy.passing_grade, FALSE) AS completed,
{%- else %}
  CAST(NULL AS BOOL) AS completed,
{%- endif %}
  modal_ip.modal_ip AS ip,
{%- if geo_table is defined and geo_table %}
  CAST(geo.cc_by_ip AS STRING) AS cc_by_ip,
  CAST(geo.countryLabel AS STRING) AS countryLabel,
  CAST(geo.continent AS STRING) AS continent,
  CAST(geo.city AS STRING) AS city,
  CAST(geo.region AS STRING) AS region,
  CAST(geo.subdivision AS STRING) AS subdivision,
  CAST(geo.postalCode AS STRING) AS postalCode,
  CAST(geo.un_major_region AS STRING) AS un_major_region,
  CAST(geo.un_economic_group AS STRING) AS un_economic_group,
  CAST(geo.un_developing_nation AS STRING) AS un_developing_nation,
  CAST(geo.un_special_region AS STRING) AS un_special_region,
  CAST(geo.latitude AS FLOAT64) AS latitude,
  CAST(geo.longitude AS FLOAT64) AS longitude,
{%- else %}
  CAST(NULL AS STRING) AS cc_by_ip,
  CAST(NULL AS STRING) AS countryLabel,
  CAST(NULL AS STRING) AS continent,
  CAST(NULL AS STRING) AS city,
  CAST(NULL AS STRING) AS region,
  CAST(NULL AS STRING) AS subdivision,
  CAST(NULL AS STRING) AS postalCode,
  CAST(NULL AS STRING) AS un_major_region,
  CAST(NULL AS STRING) AS un_economic_group,
  CAST(NULL AS STRING) AS un_developing_nation,
  CAST(NULL AS STRING) AS un_special_region,
  CAST(NULL AS FLOAT64) AS latitude,
  CAST(NULL AS FLOAT64) AS longitude,
{%- endif %}
  agent.modal_agent AS modal_agent,
  CAST(agent.mobile AS INT64) AS ever_mobile,
  CAST(agent.desktop AS INT64) AS ever_desktop,
  uic.profile_level_of_education AS LoE,
  uic.profile_year_of_birth AS YoB,
  uic.profile_gender AS gender,
{%- if has_table('grades_persistent') %}
  CAST(grades.percent_grade AS FLOAT64) AS grade,
{%- else %}
  CAST(NULL AS FLOAT64) AS grade,
{%- endif %}
  CAST(policy.passing_grade AS FLOAT64) AS passing_grade,
  uic.enrollment_created AS start_time,
  CAST(pc_day.first_event AS TIMESTAMP) AS first_event,
  CAST(pc_day.last_event AS TIMESTAMP) AS last_event,
  CAST(pc_day.nevents AS INT64) AS nevents,
  CAST(pc_day.ndays_act AS INT64) AS ndays_act,
  CAST(pc_day.nvideo AS INT64) AS nplay_video,
  CAST(nch.nchapters AS INT64) AS nchapters,
{%- if has_table('pc_forum') %}
  CAST(forum.nforum AS INT64) AS nforum_posts,
  CAST(forum.nvotes AS INT64) AS nforum_votes,
  CAST(forum.nendorsed AS INT64) AS nforum_endorsed,
  CAST(forum.nthread AS INT64) AS nforum_threads,
  CAST(forum.ncomment AS INT64) AS nforum_comments,
  CAST(forum.npinned AS INT64) AS nforum_pinned,
{%- else %}
  CAST(NULL AS INT64) AS nforum_posts,
  CAST(NULL AS INT64) AS nforum_votes,
  CAST(NULL AS INT64) AS nforum_endorsed,
  CAST(NULL AS INT64) AS nforum_threads,
  CAST(NULL AS INT64) AS nforum_comments,
  CAST(NULL AS INT64) AS nforum_pinned,
{%- endif %}
{%- if has_table('roles') %}
  CAST(roles.roles AS STRING) AS roles,
{%- else %}
  CAST(NULL AS STRING) AS roles,
{%- endif %}
  CAST(pc_day.nprogcheck AS INT64) AS nprogcheck,
  CAST(pc_day.nproblem_check AS INT64) AS nproblem_check,
  CAST(pc_day.nforum AS INT64) AS nforum_events,
  TRIM(uic.enrollment_mode) AS mode,
  uic.enrollment_is_active AS is_active,
  uic.certificate_created_date AS cert_created_date,
  uic.certificate_modified_date AS cert_modified_date,
  uic.certificate_status AS cert_status,
  CAST(verified.verified_enroll_time AS TIMESTAMP) AS verified_enroll_time,
  CAST(verified.verified_unenroll_time AS TIMESTAMP) AS verified_unenroll_time,
  uic.profile_country AS profile_country,
  uic.y1_anomalous AS y1_anomalous,
  REGEXP_EXTRACT(uic.email, r'@([^@]*)$') AS email_domain,
  CAST(lang.language AS STRING) AS language,
  CAST(lang.language_download AS INT64) AS language_download,
  CAST(lang.language_nevents AS INT64) AS language_nevents,
  CAST(lang.language_ndiff AS INT64) AS language_ndiff,
  CAST(pc_day.ntranscript AS INT64) AS ntranscript,
  CAST(pc_day.nshow_answer AS INT64) AS nshow_answer,
  CAST(pc_day.nvideo AS INT64) AS nvideo,
{%- if has_table('pc_video_watched') %}
  CAST(video.n_unique_videos_watched AS INT64) AS nvideos_unique_viewed,
  CAST(video.fract_total_videos_watched AS FLOAT64) AS nvideos_total_watched,
{%- else %}
  CAST(NULL AS INT64) AS nvideos_unique_viewed,
  CAST(NULL AS FLOAT64) AS nvideos_total_watched,
{%- endif %}
  CAST(pc_day.nseq_goto AS INT64) AS nseq_goto,
  CAST(pc_day.nseek_video AS INT64) AS nseek_video,
  CAST(pc_day.npause_video AS INT64) AS npause_video,
  CAST(pc_day.avg_dt AS FLOAT64) AS avg_dt,
  CAST(pc_day.sdv_dt AS FLOAT64) AS sdv_dt,
  CAST(pc_day.max_dt AS FLOAT64) AS max_dt,
  CAST(pc_day.n_dt AS INT64) AS n_dt,
  CAST(pc_day.sum_dt AS FLOAT64) AS sum_dt,
{%- if has_table('roles') %}
  CAST(roles.roles_isBetaTester AS INT64) AS roles_isBetaTester,
  CAST(roles.roles_isInstructor AS INT64) AS roles_isInstructor,
  CAST(roles.roles_isStaff AS INT64) AS roles_isStaff,
  CAST(roles.roles_isCCX AS INT64) AS roles_isCCX,
  CAST(roles.roles_isFinance AS INT64) AS roles_isFinance,
  CAST(roles.roles_isLibrary AS INT64) AS roles_isLibrary,
  CAST(roles.roles_isSales AS INT64) AS roles_isSales,
  CAST(roles.forumRoles_isAdmin AS INT64) AS forumRoles_isAdmin,
  CAST(roles.forumRoles_isCommunityTA AS INT64) AS forumRoles_isCommunityTA,
  CAST(roles.forumRoles_isModerator AS INT64) AS forumRoles_isModerator,
  CAST(roles.forumRoles_isStudent AS INT64) AS forumRoles_isStudent
{%- else %}
  CAST(NULL AS INT64) AS roles_isBetaTester,
  CAST(NULL AS INT64) AS roles_isInstructor,
  CAST(NULL AS INT64) AS roles_isStaff,
  CAST(NULL AS INT64) AS roles_isCCX,
  CAST(NULL AS INT64) AS roles_isFinance,
  CAST(NULL AS INT64) AS roles_isLibrary,
  CAST(NULL AS INT64) AS roles_isSales,
  CAST(NULL AS INT64) AS forumRoles_isAdmin,
  CAST(NULL AS INT64) AS forumRoles_isCommunityTA,
  CAST(NULL AS INT64) AS forumRoles_isModerator,
  CAST(NULL AS INT64) AS forumRoles_isStudent
{%- endif %}
FROM {{ latest_dataset }}.user_info_combo AS uic
CROSS JOIN (
  SELECT MAX(gp.overall_lower_cutoff) AS passing_grade
  FROM {{ latest_dataset }}.grading_policy AS gp
) AS policy
CROSS JOIN (
  SELECT COUNT(*) AS nchapters_visible
  FROM {{ latest_dataset }}.course_axis AS ca
  WHERE ca.category = 'chapter' AND NOT COALESCE(ca.visible_to_staff_only, FALSE)
) AS axis
LEFT JOIN {{ latest_dataset }}.course_modal_ip AS modal_ip
  ON modal_ip.username = uic.username
{%- if geo_table is defined and geo_table %}
LEFT JOIN (
  SELECT ranked.*
  FROM (
    SELECT
      g.ip,
      g.cc_by_ip,
      g.countryLabel,
      g.continent,
      g.city,
      g.region,
      g.subdivision,
      g.postalCode,
      g.un_major_region,
      g.un_economic_group,
      g.un_developing_nation,
      g.un_special_region,
      g.latitude,
      g.longitude,
      ROW_NUMBER() OVER (
        PARTITION BY g.ip
        ORDER BY g.cc_by_ip, g.region, g.city, g.postalCode, g.latitude, g.longitude
      ) AS listing
    FROM {{ geo_table }} AS g
  ) AS ranked
  WHERE ranked.listing = 1
) AS geo
  ON geo.ip = modal_ip.modal_ip
{%- endif %}
LEFT JOIN {{ latest_dataset }}.pc_day_totals AS pc_day
  ON pc_day.username = uic.username
LEFT JOIN {{ latest_dataset }}.pc_nchapters AS nch
  ON nch.user_id = uic.user_id
LEFT JOIN {{ latest_dataset }}.course_modal_language AS lang
  ON lang.username = uic.username
LEFT JOIN {{ latest_dataset }}.person_enrollment_verified AS verified
  ON verified.user_id = uic.user_id
LEFT JOIN {{ latest_dataset }}.course_modal_agent AS agent
  ON agent.username = uic.username
{%- if has_table('grades_persistent') %}
LEFT JOIN {{ latest_dataset }}.grades_persistent AS grades
  ON grades.user_id = uic.user_id
{%- endif %}
{%- if has_table('pc_forum') %}
LEFT JOIN {{ latest_dataset }}.pc_forum AS forum
  ON forum.user_id = uic.user_id
{%- endif %}
{%- if has_table('roles') %}
LEFT JOIN {{ latest_dataset }}.roles AS roles
  ON roles.user_id = uic.user_id
{%- endif %}
{%- if has_table('pc_video_watched') %}
LEFT JOIN {{ latest_dataset }}.pc_video_watched AS video
  ON video.user_id = uic.user_id
{%- endif %}
ORDER BY user_id
