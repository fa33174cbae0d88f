DROP ROLE IF EXISTS "{{name}}";
