Attribute VB_Name = "BackpropRibbon"
' Ribbon callbacks of the "Backprop" tab (customUI14.xml in this workbook).
' Each button runs one fixed Python command through xlwings' RunPython; the Python side
' is xl_backprop.macros. Nothing here runs when the workbook opens.
' Built from xl_backprop/workbook/vba/BackpropRibbon.bas: edit that file, not this module.
Option Explicit

' Train every learning rate on the "Learning rates" sheet in one batch and write the loss
' table, the summary, a chart and a picture into the area reserved for them.
Sub TrainLearningRates(control As IRibbonControl)
    RunPython "import xl_backprop.macros as m; m.train_learning_rates()"
End Sub

' Draw the network at the step chosen on the Backprop sheet (cell in_show_step).
Sub DrawNetwork(control As IRibbonControl)
    RunPython "import xl_backprop.macros as m; m.draw_network()"
End Sub

' Map the learning rates: one network per pair of layer rates on the "Learning rates" sheet,
' drawn as a picture in the place reserved for it. RunMapLearningRates runs it without a button (Alt+F8).
Sub RunMapLearningRates()
    RunPython "import xl_backprop.macros as m; m.map_learning_rates()"
End Sub

Sub MapLearningRates(control As IRibbonControl)
    RunMapLearningRates
End Sub

' Put the course's default inputs back and clear what the macros wrote.
Sub ResetDefaults(control As IRibbonControl)
    RunPython "import xl_backprop.macros as m; m.reset()"
End Sub

' Ask xlwings to import the Python functions of the "UDF Modules" setting again.
Sub ReimportFunctions(control As IRibbonControl)
    ImportPythonUDFs
End Sub

' The "Walk through" group: each button runs an argument-less Sub of the Walkthrough module.
Sub WalkStartButton(control As IRibbonControl)
    WalkStart
End Sub

Sub WalkBackButton(control As IRibbonControl)
    WalkBack
End Sub

Sub WalkNextButton(control As IRibbonControl)
    WalkNext
End Sub

Sub WalkPlayButton(control As IRibbonControl)
    WalkPlay
End Sub

Sub WalkPauseButton(control As IRibbonControl)
    WalkPause
End Sub
