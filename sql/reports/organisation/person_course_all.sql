-- person_course_all: every course's person_course in one table, one row per learner and course (course_id first).
-- reads: person_course
-- The table most research questions over the whole organisation start from: filter or group
-- by course_id instead of querying each course's {BASE}_latest.person_course.
SELECT * FROM {{ latest_dataset }}.person_course
