# English. Every key must be in both catalogues (vi, en) and used in the source.

## Self-assessment form

form-title = DIGITAL TRANSFORMATION INDEX (DTI) SELF-ASSESSMENT FORM
form-framework = Framework: { $title } ({ $source })
form-round = Assessment round: { $year }
form-unit = Unit: { $name } (id { $id })
form-unit-unset = Unit: write the unit id on the GENERAL INFORMATION sheet
form-instructions = Enter the figures in the yellow cells; every other cell is locked and must not be changed.
form-general-sheet = GENERAL INFORMATION
form-group-sheet = Group { $code }
form-group-heading = Group { $code }: { $name } ({ $points } points)
form-col-code = Code
form-col-content = Description
form-col-points = Maximum points
form-col-type = Type
form-col-value = Value
form-col-not-applicable = Not applicable
form-col-evidence = Evidence reference (document number)
form-unit-id = Unit id in the city's unit registry (e.g. quan-1, so-tttt)
form-type-count = Whole number ≥ 0
form-type-money = Amount (đồng), whole number ≥ 0
form-type-bool = Yes / No
form-type-choice = One of: { $choices }
form-type-decimal = Decimal number ≥ 0
form-type-text = Text
form-activity-reports = Activity { $n }: reports from residents
form-activity-resolved = Activity { $n }: reports found accurate and resolved
form-activity-count = Number of activities (0 if none)
form-contact-name = Full name
form-contact-unit = Workplace
form-contact-position = Position
form-contact-phone = Phone
form-contact-email = Email
form-yes = Yes
form-no = No
form-input-title = Value
form-input-whole = Enter a whole number ≥ 0.
form-input-decimal = Enter a number ≥ 0.
form-input-list = Choose a value from the list.

## Form import: every problem names the sheet, cell, indicator and variable

import-at-cell = Sheet '{ $sheet }', cell { $cell }: { $problem }
import-in-sheet = Sheet '{ $sheet }': { $problem }
import-in-workbook = Workbook: { $problem }
import-unreadable = cannot read the .xlsx file: { $reason }
import-not-a-form = not a DTI form: the form's hidden sheet '{ $sheet }' is missing
import-format-version = the form is of format { $found }, this tool reads format { $expected }
import-meta-missing = the form's hidden sheet lacks the field '{ $field }'
import-unknown-framework = the form is for framework { $framework }, which is not known
import-framework-changed = the form was made from another version of framework { $framework }; make a new form
import-other-framework = the form is for framework { $found }, expected { $expected }
import-other-year = the form is for year { $found }, expected { $expected }
import-extra-sheet = sheet '{ $sheet }' is not part of the form; remove it
import-missing-sheet = the form's sheet '{ $sheet }' is missing
import-label-edited = label changed: expected '{ $expected }', found '{ $found }'
import-not-whole = { $subject } must be a whole number ≥ 0, found '{ $found }'
import-too-large = { $subject } is too large for a spreadsheet to hold exactly (at most { $max }), found '{ $found }'
import-not-decimal = { $subject } must be a number ≥ 0 (like 15.38), found '{ $found }'
import-not-bool = { $subject } must be '{ $yes }' or '{ $no }', found '{ $found }'
import-not-choice = { $subject } must be one of { $choices }, found '{ $found }'
import-not-text = { $subject } must be text, found '{ $found }'
import-incomplete = { $subject } is empty; fill every variable of indicator { $indicator } or mark it not applicable
import-activity-half = { $subject } is empty while the activity has its other figure
import-activity-count = { $subject }: { $declared } activities declared but { $listed } filled in; fill activities 1 to { $declared } in order
import-not-applicable-with-values = indicator { $indicator } is marked not applicable but has values
import-unit-missing = the unit id is missing
import-unit-invalid = unit id '{ $found }' is not valid: { $reason }
import-unit-other = the form was made for unit { $expected }, found '{ $found }'
import-domain = { $subject }: { $message }

## Exports

export-ranking-title = DIGITAL TRANSFORMATION INDEX RANKING { $year }
export-ranking-sheet = Ranking
export-scorecard-title = SCORES OF { $unit } IN { $year }
export-scorecard-summary-sheet = Summary
export-basis = Basis: { $basis }
export-basis-self = self-assessed values
export-basis-verified = verified values
export-col-rank = Rank
export-col-unit-id = Unit id
export-col-unit = Unit
export-col-total = Total
export-col-code = Indicator code
export-col-indicator = Indicator
export-col-points = Maximum points
export-col-score = Score
export-col-explanation = Explanation
export-group = Group { $code }
export-side-by-side-title = SELF-ASSESSED AND VERIFIED VALUES OF { $unit } IN { $year }
export-totals = Self-assessed total { $self }, verified total { $verified }, difference { $difference }
export-col-self-value = Self-assessed values
export-col-self-score = Self-assessed score
export-col-verified-value = Verified values
export-col-verified-score = Verified score
export-col-difference = Difference
export-col-decision = Decision
export-col-reason = Reason
export-publication-title = PUBLISHED DIGITAL TRANSFORMATION INDEX RESULTS { $year } (REVISION { $revision })
export-publication-sheet = Publication
export-publication-reason = Reason: { $reason }; round state: { $state }
