"""Published reference numbers, each with its source. The tests hold the engine and every face to
these; none of them is computed by the code under test.

The course's reference sheet: the exercise in shared/seed (the EVA6 "Back_Propagation_Understanding"
workbook), defaults i1 = 0.05, i2 = 0.1, t1 = 0.01, t2 = 0.99, w1..w8 = 0.15 … 0.55, no biases,
as docs/design.md states them.

M. Mazur, "A Step by Step Backpropagation Example" (2015): the same inputs, targets and
weights, with biases b1 = 0.35 and b2 = 0.60 (not trained) and learning rate 0.5. The article
prints its numbers to 8 or 9 decimal places; they are kept here as printed.
"""

# --- the course's reference sheet
COURSE_INPUTS = (0.05, 0.1)
COURSE_TARGETS = (0.01, 0.99)
COURSE_WEIGHTS = (0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55)
COURSE_E_TOTAL = 0.24251985734837728  # E_total before any update
COURSE_DE_DW5 = 0.07215707291213626  # dE/dw5 before any update

# --- Mazur (2015)
MAZUR = dict(inputs=(0.05, 0.10), targets=(0.01, 0.99), biases=(0.35, 0.60), weights=COURSE_WEIGHTS)
MAZUR_LR = 0.5
MAZUR_E_TOTAL = 0.298371109  # E_total before training, printed to 9 places
#: w1..w8 after one update, as printed (8 or 9 decimals: compare to the digits given)
MAZUR_STEP_TEXT = (
    "0.149780716",
    "0.19956143",
    "0.24975114",
    "0.29950229",
    "0.35891648",
    "0.408666186",
    "0.511301270",
    "0.561370121",
)
MAZUR_STEP = tuple(float(x) for x in MAZUR_STEP_TEXT)
