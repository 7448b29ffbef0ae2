Attribute VB_Name = "Practice"
' The Practice sheet's "New exercise" (the ribbon's Practice group). Plain VBA: no Python,
' so it works before Python is set up. Nothing here runs when the workbook opens.
' Built from xl_backprop/workbook/vba/Practice.bas: edit that file, not this module.
Option Explicit

' The largest seed: xl_backprop.exercise.SEED_MAX (a test holds the two equal).
Private Const SEED_MAX As Long = 99999

' Draw a new seed, 1 to SEED_MAX and never the current one, into the cell named PracticeSeed.
' The exercise follows by formulas. Nothing else changes: the answers typed stay as they are.
Sub PracticeNewExercise()
    Dim target As Range
    Dim seed As Long
    Set target = ThisWorkbook.Names("PracticeSeed").RefersToRange
    Randomize
    Do
        seed = Int(Rnd * SEED_MAX) + 1
    Loop While CStr(seed) = CStr(target.Value)
    target.Value = seed
End Sub

' The ribbon's New exercise button.
Sub NewExercise(control As IRibbonControl)
    PracticeNewExercise
End Sub
