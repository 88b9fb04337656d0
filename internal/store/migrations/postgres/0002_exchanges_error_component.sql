-- The component an Erro message blames (errorComponent: C the 3DS SDK, S the 3DS Server, D the DS,
-- A the ACS), so that failures can be counted by who caused them.
ALTER TABLE exchanges ADD COLUMN error_component text CHECK (error_component IN ('C', 'S', 'D', 'A'));
