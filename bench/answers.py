"""Answers the benchmarks give to the PiPoT forms (valid against forms/pipot_*.schema.json)."""

CONCERN = dict(
    raised_by_name="Sam Carter", raised_by_role="Staff nurse", raised_by_contact="sam.carter@example.nhs.uk",
    concern_source="colleague", subject_name="Alex Morgan", subject_work_area="Ward 4, older adults",
    allegation_summary="Seen handling a patient roughly during personal care.", date_became_aware="2026-03-02",
    immediate_danger=False, adult_at_risk_identified=True, manager_informed=True, anonymity_understood=True)

FIRST_STEPS = dict(
    first_steps_manager_name="Jo Patel", safety_actions="Moved to duties with no patient contact.",
    nurse_director_name="Dr Raj Shah", nurse_director_notified_on="2026-03-02",
    people_experience_notified_on="2026-03-02", incident_report_reference="INC-55512",
    children_involved=False, works_with_children=False, has_children=False, employment_basis="permanent",
    colleague_aware=False)

MANAGER_ROLES = ("reporting_manager", "on_call_manager")
FIRST_STEPS_TASKS = ("Task_first_steps", "Task_first_steps_on_call")
