; Inno Setup script (6.3 or later, 7): the Windows installer of fer-desktop.
;
;   ISCC /DAppVersion=0.3.0 /DFileVersion=0.3.0.0 packaging\fer-desktop.iss
;
; (scripts/package_app.sh runs it after PyInstaller.) Installs dist\fer-desktop\ for the
; current user, without administrator rights (%LOCALAPPDATA%\Programs\fer-desktop), or for
; everyone when Setup is run as administrator and that is chosen; adds fer-desktop to the Start
; menu (a desktop icon on request) and an uninstaller (Settings > Apps, or Start menu >
; fer-desktop > Uninstall). The uninstaller removes the program only: the sessions saved in
; Documents\fer-desktop and the app's settings stay.
;
; Silent install (used by CI): Setup.exe /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER /DIR=PATH

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=X.Y.Z /DFileVersion=X.Y.Z.0
#endif
#ifndef FileVersion
  #define FileVersion AppVersion + ".0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\fer-desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif

[Setup]
; the same AppId in every version, so that a new version replaces the old one
AppId={{3F6E2B7A-5C1D-4E8B-9A7F-2D4C6B8E1F03}
AppName=fer-desktop
AppVersion={#AppVersion}
AppVerName=fer-desktop {#AppVersion}
AppPublisher=fer-desktop
AppComments=Facial-expression estimates for an online class, on the teacher's own computer
DefaultDirName={autopf}\fer-desktop
DefaultGroupName=fer-desktop
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=fer-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=..\resources\fer-desktop.ico
UninstallDisplayIcon={app}\fer-desktop.exe
UninstallDisplayName=fer-desktop {#AppVersion}
VersionInfoVersion={#FileVersion}
VersionInfoProductVersion={#FileVersion}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoDescription=fer-desktop {#AppVersion} Setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\fer-desktop"; Filename: "{app}\fer-desktop.exe"; Comment: "Facial-expression estimates for an online class"
Name: "{group}\{cm:UninstallProgram,fer-desktop}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\fer-desktop"; Filename: "{app}\fer-desktop.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\fer-desktop.exe"; Description: "{cm:LaunchProgram,fer-desktop}"; Flags: nowait postinstall skipifsilent
