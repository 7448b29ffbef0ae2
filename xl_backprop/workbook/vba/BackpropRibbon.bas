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

' Put the course's default inputs back and clear what the macros wrote.
Sub ResetDefaults(control As IRibbonControl)
    RunPython "import xl_backprop.macros as m; m.reset()"
End Sub

' Ask xlwings to import the Python functions of the "UDF Modules" setting again.
Sub ReimportFunctions(control As IRibbonControl)
    ImportPythonUDFs
End Sub
