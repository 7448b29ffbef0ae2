Attribute VB_Name = "Walkthrough"
' The walkthrough on the Backprop sheet: one training step, phase by phase, in plain VBA (no
' Python, so it works before xlwings is set up). The ribbon's "Walk through" buttons call these
' argument-less Subs through one-line wrappers in BackpropRibbon; Alt+F8 runs them too.
' The cells: WalkStep (the table's step, 0..LAST_STEP), WalkPhase (1 forward, 2 error, 3 output
' layer's gradients, 4 hidden layer's gradients, 5 update), WalkSpeed (seconds per phase, Play).
' Built from xl_backprop/workbook/vba/Walkthrough.bas: edit that file, not this module.
Option Explicit

Private Const LAST_STEP As Long = 99 ' the table's last step (layout.BACKPROP_STEPS - 1)
Private Const LAST_PHASE As Long = 5
Private Const MAX_SPEED As Long = 60 ' seconds per phase, at most (layout.WALK_MAX_SPEED)

Private Playing As Boolean
Private NextTick As Date

' A named cell's value as a whole number in lo..hi; what is not a number there reads as lo.
Private Function NamedWhole(CellName As String, lo As Long, hi As Long) As Long
    Dim v As Variant
    v = ThisWorkbook.Worksheets("Backprop").Range(CellName).Value
    If Not IsNumeric(v) Or IsEmpty(v) Then
        NamedWhole = lo
    ElseIf v < lo Then
        NamedWhole = lo
    ElseIf v > hi Then
        NamedWhole = hi
    Else
        NamedWhole = Int(v)
    End If
End Function

Private Sub ShowAt(StepNo As Long, Phase As Long)
    ThisWorkbook.Worksheets("Backprop").Range("WalkStep").Value = StepNo
    ThisWorkbook.Worksheets("Backprop").Range("WalkPhase").Value = Phase
End Sub

' One phase on: after the update, the next step's forward pass; False at the last step's update.
Private Function Advance() As Boolean
    Dim s As Long, p As Long
    s = NamedWhole("WalkStep", 0, LAST_STEP)
    p = NamedWhole("WalkPhase", 1, LAST_PHASE)
    If p < LAST_PHASE Then
        ShowAt s, p + 1
    ElseIf s < LAST_STEP Then
        ShowAt s + 1, 1
    Else
        ShowAt s, p
        Advance = False
        Exit Function
    End If
    Advance = True
End Function

' Step 0, phase 1: the forward pass before any update.
Sub WalkStart()
    WalkPause
    ShowAt 0, 1
End Sub

' The next phase (after phase 5, the next step's phase 1; it stops at the last step).
Sub WalkNext()
    Advance
End Sub

' The phase before (before phase 1, the previous step's phase 5; it stops at step 0, phase 1).
Sub WalkBack()
    Dim s As Long, p As Long
    s = NamedWhole("WalkStep", 0, LAST_STEP)
    p = NamedWhole("WalkPhase", 1, LAST_PHASE)
    If p > 1 Then
        ShowAt s, p - 1
    ElseIf s > 0 Then
        ShowAt s - 1, LAST_PHASE
    Else
        ShowAt 0, 1
    End If
End Sub

' Advance one phase every WalkSpeed seconds until Pause, the last step, or the book closes.
Sub WalkPlay()
    If Playing Then Exit Sub
    Playing = True
    Schedule
End Sub

Private Sub Schedule()
    NextTick = Now + TimeSerial(0, 0, NamedWhole("WalkSpeed", 1, MAX_SPEED))
    Application.OnTime NextTick, "WalkTick"
End Sub

' What Play's timer runs: one phase on, then the next tick (none past the last step).
Sub WalkTick()
    If Not Playing Then Exit Sub
    If Advance() Then
        Schedule
    Else
        Playing = False
    End If
End Sub

' Stop Play: the pending timer is cancelled (an error means none is pending).
Sub WalkPause()
    If Playing Then
        On Error Resume Next
        Application.OnTime NextTick, "WalkTick", , False
        On Error GoTo 0
    End If
    Playing = False
End Sub
